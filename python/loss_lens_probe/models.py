"""Models for a probe: the two presets (the same architectures as the tfjs presets in
src/probe/tfjs/presets.ts) and TorchScript files.

Initialization follows the Keras/tfjs defaults (Glorot-uniform kernels, zero biases) and
BatchNorm PyTorch's (momentum 0.1, epsilon 1e-5; the tfjs presets use the same, as momentum
0.9 in Keras' convention), so that a probe on either backend starts from the same kind of
network; a fast-moving average also suits runs of a few hundred steps.
"""
import math
import os

import torch
from torch import nn

TORCHSCRIPT_EXTENSIONS = (".pt", ".pth", ".ts")


def _bn1d(n):
    return nn.BatchNorm1d(n, eps=1e-5, momentum=0.1)


def _bn2d(n):
    return nn.BatchNorm2d(n, eps=1e-5, momentum=0.1)


def _dense_block(n_in, n_out, opts):
    layers = [nn.Linear(n_in, n_out)]
    if opts.get("batchNorm"):
        layers.append(_bn1d(n_out))
    layers.append(nn.ReLU())
    if opts.get("dropout", 0) > 0:
        layers.append(nn.Dropout(opts["dropout"]))
    return layers


def _mlp(input_shape, classes, opts):
    hidden = int(opts["hidden"])
    n_in = math.prod(input_shape)
    layers = [nn.Flatten()]
    layers += _dense_block(n_in, hidden, opts)
    layers += _dense_block(hidden, hidden, opts)
    layers.append(nn.Linear(hidden, classes))
    return nn.Sequential(*layers)


def _cnn(input_shape, classes, opts):
    if len(input_shape) != 3:
        raise ValueError(f"the cnn preset needs image inputs [H, W, C], got input shape {list(input_shape)}")
    h, w, c = input_shape
    layers = []
    for c_in, c_out in ((c, 32), (32, 64)):
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if opts.get("batchNorm"):
            layers.append(_bn2d(c_out))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]  # floor division of odd sizes, like tfjs 'valid'
        h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"the cnn preset needs images of at least 4 x 4 pixels, got {input_shape[0]} x {input_shape[1]}")
    layers.append(nn.Flatten())
    layers += _dense_block(64 * h * w, int(opts["hidden"]), opts)
    layers.append(nn.Linear(int(opts["hidden"]), classes))
    return nn.Sequential(*layers)


def _keras_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def param_groups(model, weight_decay):
    """Weight decay on Linear/Conv weights only: biases and BatchNorm are not decayed."""
    decay, rest = [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            (decay if isinstance(m, (nn.Linear, nn.Conv2d)) and name == "weight" else rest).append(p)
    return [{"params": decay, "weight_decay": float(weight_decay)}, {"params": rest, "weight_decay": 0.0}]


def build_preset(preset, opts, input_shape, classes):
    """(model, description) for a preset; the caller seeds torch first."""
    if preset == "mlp":
        model = _mlp(input_shape, classes, opts)
    elif preset == "cnn":
        model = _cnn(input_shape, classes, opts)
    else:
        raise ValueError(f"unknown preset {preset!r} (expected mlp or cnn)")
    _keras_init(model)
    extras = []
    if opts.get("batchNorm"):
        extras.append("BatchNorm")
    if opts.get("dropout", 0) > 0:
        extras.append(f"dropout {opts['dropout']:g}")
    if opts.get("weightDecay", 0) > 0:
        extras.append(f"weight decay {opts['weightDecay']:g}")
    desc = f"{preset} preset (hidden {int(opts['hidden'])}{''.join(', ' + e for e in extras)})"
    return model, desc


def load_torchscript(path, device, sample, classes):
    """Loads a TorchScript file afresh (its trained weights) and checks its output width."""
    if not path.lower().endswith(TORCHSCRIPT_EXTENSIONS):
        raise ValueError(f"{path}: the PyTorch backend loads TorchScript files (.pt, .pth, .ts)")
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    try:
        model = torch.jit.load(path, map_location=device)
    except Exception as e:  # torch raises RuntimeError, pickle or zip errors depending on the file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"{path} is not a TorchScript model ({first}). Only TorchScript is supported: a pickled "
            "nn.Module or a state_dict does not carry its code. Make one with "
            "torch.jit.save(torch.jit.script(model), 'model.pt') (or torch.jit.trace(model, example_input))."
        ) from None
    model.eval()
    with torch.no_grad():
        try:
            out = model(sample)
        except Exception as e:
            raise ValueError(f"{path}: the model failed on a batch of input shape {list(sample.shape)}: {e}") from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != classes:
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{path}: the model outputs {shape} for {sample.shape[0]} rows; a probe needs logits with {classes} columns (rows x classes)")
    model.train()
    return model, f"TorchScript {os.path.basename(path)} (its trained weights)"
