"""A typical training step with soft targets: what Loss Lens flags in the editor.

Open this file in VS Code with Loss Lens installed: label smoothing (LL101), a teacher's
probabilities (LL102) and a KL distillation term (LL103) are underlined, each with a hover that
explains why, a quick fix, and a CodeLens that trains a probe of that loss.
"""
import torch
import torch.nn.functional as F
from torch import nn

SMOOTHING = 0.1
TEMPERATURE = 4.0

criterion = nn.CrossEntropyLoss(label_smoothing=SMOOTHING)


def distill_step(student, teacher, x, y, optimizer):
    logits = student(x)
    with torch.no_grad():
        soft = F.softmax(teacher(x) / TEMPERATURE, dim=-1)
    hard_loss = criterion(logits, y)
    soft_loss = F.cross_entropy(logits / TEMPERATURE, soft)
    kd = F.kl_div(F.log_softmax(logits / TEMPERATURE, dim=-1), soft)
    loss = hard_loss + soft_loss + TEMPERATURE**2 * kd
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
