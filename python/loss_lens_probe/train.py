"""Runs a TorchJob: every (loss x seed) run in turn, reporting TorchMessages on stdout."""
import json
import math
import os
import platform
import random
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import native
from .cc import cc_nll
from .models import build_preset, load_torchscript, param_groups

# src/shared/probeProtocol.ts LOSS_TABLE: loss -> (family, target kind).
LOSS_TABLE = {
    "ce": ("ce", "onehot"),
    "ls": ("ce", "ls"),
    "cc-ls": ("cc", "ls"),
    "soft-ce": ("ce", "soft"),
    "cc": ("cc", "soft"),
}
FLUSH_STEPS = 10
FLUSH_SECONDS = 0.25


class Channel:
    """The protocol stream. fd 1 is pointed at stderr so that nothing else (a model's print,
    a library warning, C++ output of TorchScript) can corrupt the JSON lines."""

    def __init__(self):
        self.started = set()  # runIds whose run/started went out
        self.out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        sys.stdout.flush()
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, msg):
        if msg["type"] == "run/started":
            self.started.add(msg["runId"])
        # allow_nan=False: NaN is not JSON; callers only send finite numbers.
        self.out.write(json.dumps(msg, allow_nan=False) + "\n")
        self.out.flush()


def pick_device(choice):
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError(f"device 'cuda' was asked for, but torch {torch.__version__} sees no CUDA device")
        return torch.device("cuda", torch.cuda.current_device())
    if choice not in ("auto", "cpu"):
        raise RuntimeError(f"unknown device {choice!r} (expected auto, cpu or cuda)")
    return torch.device("cpu")


def describe_device(device):
    if device.type == "cuda":
        return f"cuda:{device.index} ({torch.cuda.get_device_name(device)})"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'' if n == 1 else 's'})"


def _load(path, what):
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise RuntimeError(f"cannot read {what} {path}: {e}") from None


def load_data(job, device, nchw):
    d = job["data"]
    shape = [int(s) for s in d["inputShape"]]
    classes = int(d["classes"])

    def features(path, what):
        a = _load(path, what)
        if a.shape[1:] != tuple(shape):
            if a.ndim < 1 or math.prod(a.shape[1:]) != math.prod(shape):
                raise RuntimeError(f"{what} {path} has shape {list(a.shape)}, not rows x {shape}")
            a = a.reshape((a.shape[0], *shape))
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
        if nchw and len(shape) == 3:
            t = t.permute(0, 3, 1, 2).contiguous()  # NHWC (the job) -> NCHW (PyTorch)
        return t.to(device)

    x_train = features(d["xTrain"], "xTrain")
    x_test = features(d["xTest"], "xTest")
    targets = {}
    for kind, path in d["targetsTrain"].items():
        a = _load(path, f"targets ({kind})")
        if a.shape != (x_train.shape[0], classes):
            raise RuntimeError(f"targets ({kind}) {path} has shape {list(a.shape)}, not {x_train.shape[0]} x {classes}")
        targets[kind] = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(device)
    return x_train, x_test, targets, shape, classes


def _seed(seed):
    torch.manual_seed(seed)  # also seeds every CUDA device
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _loss_fn(family):
    if family == "cc":
        return cc_nll
    return lambda z, y: -(y * F.log_softmax(z, dim=-1)).sum(dim=-1)


def run_one(ch, job, run, device, data):
    x_train, x_test, targets, shape, classes = data
    run_id, loss_name, seed = run["runId"], run["loss"], int(run["seed"])
    if loss_name not in LOSS_TABLE:
        raise ValueError(f"unknown loss {loss_name!r}")
    family, kind = LOSS_TABLE[loss_name]
    if kind not in targets:
        raise ValueError(f"the job has no '{kind}' targets, which the loss {loss_name} trains on")
    y_train = targets[kind]
    _seed(seed)
    spec = job["model"]
    if spec["kind"] == "preset":
        opts = spec["options"]
        model, desc = build_preset(spec["preset"], opts, shape, classes)
        model = model.to(device)
        groups = param_groups(model, opts.get("weightDecay", 0))
    else:
        model, desc = load_torchscript(spec["path"], device, x_train[: min(2, x_train.shape[0])], classes)
        groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    lr = float(job["learningRate"])
    opt = torch.optim.Adam(groups, lr=lr) if job["optimizer"] == "adam" else torch.optim.SGD(groups, lr=lr)
    n_params = sum(p.numel() for p in model.parameters())
    ch.send({"type": "run/started", "runId": run_id, "model": desc, "parameters": int(n_params)})

    loss_fn = _loss_fn(family)
    steps, eval_every = int(job["steps"]), max(1, int(job["evalEvery"]))
    eval_x = x_test[: int(job["evalRows"])]
    n = x_train.shape[0]
    # Whole batches only: a last partial batch of one row would break BatchNorm.
    bs = max(1, min(int(job["batchSize"]), n))
    gen = torch.Generator().manual_seed(seed)
    perm, pos = None, n
    pend_steps, pend_losses = [], []
    last_flush = time.monotonic()
    started = time.perf_counter()

    def flush():
        """Sends the pending losses (one host sync); returns the first non-finite step or None."""
        nonlocal last_flush
        if not pend_steps:
            return None
        values = torch.stack(pend_losses).double().cpu().tolist()
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        keep = len(values) if bad is None else bad
        if keep:
            ch.send({"type": "run/steps", "runId": run_id, "steps": pend_steps[:keep], "losses": values[:keep]})
        bad_step = None if bad is None else pend_steps[bad]
        pend_steps.clear()
        pend_losses.clear()
        last_flush = time.monotonic()
        return bad_step

    def finished(status, message=None):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        msg = {"type": "run/finished", "runId": run_id, "status": status, "seconds": time.perf_counter() - started}
        if message:
            msg["message"] = message
        ch.send(msg)

    model.train()
    for step in range(1, steps + 1):
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=gen).to(device), 0
        idx = perm[pos : pos + bs]
        pos += bs
        loss = loss_fn(model(x_train[idx]), y_train[idx]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        # No .item() here: on a GPU that would wait for every step; the check happens per flush.
        pend_steps.append(step)
        pend_losses.append(loss.detach())
        is_eval = step % eval_every == 0 or step == steps
        if is_eval or len(pend_steps) >= FLUSH_STEPS or time.monotonic() - last_flush >= FLUSH_SECONDS:
            bad = flush()
            if bad is not None:
                finished("diverged", f"the training loss was not finite at step {bad}")
                return
        if is_eval:
            model.eval()
            with torch.no_grad():
                logits = model(eval_x).float().cpu().numpy()
            model.train()
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
            path = os.path.join(job["workDir"], f"eval-{safe}-{step}.npy")
            np.save(path, np.ascontiguousarray(logits, dtype="<f4"))
            ch.send({"type": "eval", "runId": run_id, "step": step, "path": path})
    finished("done")


def main():
    ch = Channel()
    try:
        line = sys.stdin.readline()
        if not line.strip():
            raise RuntimeError("no job on stdin (expected one TorchJob JSON line)")
        job = json.loads(line)
        device = pick_device(job.get("device", "auto"))
        hello = {"type": "hello", "torch": torch.__version__, "device": describe_device(device), "python": platform.python_version()}
        if device.type == "cpu" and any(LOSS_TABLE.get(r["loss"], ("",))[0] == "cc" for r in job["runs"]):
            # Builds (once, cached) or loads the few-class kernel now, not inside a timed run.
            hello["ccOp"] = f"few classes: {native.status()}"
        ch.send(hello)
        spec = job["model"]
        nchw = spec["kind"] == "file" or spec.get("preset") == "cnn"
        data = load_data(job, device, nchw)
        for run in job["runs"]:
            started = time.perf_counter()
            try:
                run_one(ch, job, run, device, data)
            except Exception as e:
                if run["runId"] not in ch.started:
                    # The host tracks a run from its run/started: announce it so the failure shows.
                    ch.send({"type": "run/started", "runId": run["runId"], "model": _describe_spec(spec), "parameters": 0})
                ch.send({"type": "run/finished", "runId": run["runId"], "status": "failed", "message": _message(e), "seconds": time.perf_counter() - started})
        return 0
    except Exception as e:
        ch.send({"type": "error", "message": _message(e)})
        return 1


def _message(e):
    # ValueError and RuntimeError carry this package's own sentences (and torch's); others
    # (KeyError, MemoryError, ...) need their type to make sense.
    return str(e) if isinstance(e, (ValueError, RuntimeError)) and str(e) else f"{type(e).__name__}: {e}"


def _describe_spec(spec):
    if spec.get("kind") == "file":
        return f"TorchScript {os.path.basename(spec.get('path', '?'))}"
    return f"{spec.get('preset', '?')} preset"
