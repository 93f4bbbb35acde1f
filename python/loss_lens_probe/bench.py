"""``python -m loss_lens_probe --bench``: the PyTorch backend's probe on CUDA and on the CPU,
side by side, on the same CNN preset and data, printing steps/s for each device and loss, the
CC-LS / CE step-time ratio, and how closely cc_nll agrees between the devices. Self-contained
(random 28x28x1 images with a planted class signal, written as .npy like the extension does),
bounded (a few hundred steps per run), no network. scripts/gpu-probe.sh runs it.

    --steps=N        training steps per run (default 300)
    --devices=LIST   cpu,cuda (default: both where CUDA is available)
"""
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

from . import cc
from .train import describe_device, load_data, run_one

K = 10


class _Collect:
    """Stands in for the protocol channel: keeps the messages."""

    def __init__(self):
        self.started = set()
        self.messages = []

    def send(self, msg):
        if msg["type"] == "run/started":
            self.started.add(msg["runId"])
        self.messages.append(msg)


def _data(work, rows=6000):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, K, rows)
    means = rng.normal(0, 1, (K, 28, 28, 1)).astype(np.float32)
    x = (rng.normal(0, 1, (rows, 28, 28, 1)).astype(np.float32) + 0.5 * means[labels])
    onehot = np.eye(K, dtype=np.float32)[labels]
    ls = (0.9 * onehot + 0.1 / K).astype(np.float32)
    paths = {}
    for name, a in (("x_train", x), ("x_test", x[:512]), ("onehot", onehot), ("ls", ls)):
        paths[name] = os.path.join(work, name + ".npy")
        np.save(paths[name], a)
    return paths


def _run(device, steps, paths, work):
    job = {
        "data": {"xTrain": paths["x_train"], "xTest": paths["x_test"], "inputShape": [28, 28, 1], "classes": K,
                 "targetsTrain": {"onehot": paths["onehot"], "ls": paths["ls"]}},
        "model": {"kind": "preset", "preset": "cnn", "options": {"hidden": 128, "batchNorm": False, "dropout": 0, "weightDecay": 0}},
        "runs": [{"runId": "ce", "loss": "ce", "seed": 1}, {"runId": "cc-ls", "loss": "cc-ls", "seed": 1}],
        "steps": steps, "batchSize": 64, "learningRate": 1e-3, "optimizer": "adam",
        "evalEvery": steps, "evalRows": 512, "device": device.type, "workDir": work,
    }
    data = load_data(job, device, True)
    out = {}
    for run in job["runs"]:
        ch = _Collect()
        run_one(ch, job, run, device, data)
        fin = [m for m in ch.messages if m["type"] == "run/finished"][-1]
        losses = [v for m in ch.messages if m["type"] == "run/steps" for v in m["losses"]]
        out[run["loss"]] = {"status": fin["status"], "seconds": fin["seconds"], "steps/s": steps / fin["seconds"],
                            "first loss": losses[0] if losses else None, "last loss": losses[-1] if losses else None}
    return out


def _agreement():
    """cc_nll value and gradient on CUDA against the CPU (both float64 inside) on logits of
    several spreads, uniform rows included (K = 100: the batch takes the contour integral,
    spread 100 and 1000 rows included)."""
    g = torch.Generator().manual_seed(3)
    rows = []
    for spread in (0.0, 1e-6, 1e-3, 1.0, 10.0, 100.0, 1000.0):
        rows.append(torch.rand(16, 100, generator=g, dtype=torch.float64) * spread)
    z = torch.cat(rows)
    y = torch.softmax(torch.randn(z.shape, generator=g, dtype=torch.float64), -1)
    res = []
    for dev in ("cpu", "cuda"):
        zz = z.to(dev).requires_grad_(True)
        loss = cc.cc_nll(zz, y.to(dev))
        loss.sum().backward()
        res.append((loss.detach().cpu(), zz.grad.cpu()))
    dl = ((res[0][0] - res[1][0]).abs() / res[0][0].abs().clamp_min(1)).max().item()
    dg = ((res[0][1] - res[1][1]).abs().max() / res[0][1].abs().max()).item()
    return dl, dg


def main(argv):
    steps = 300
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for a in argv:
        if a.startswith("--steps="):
            steps = int(a.split("=", 1)[1])
        elif a.startswith("--devices="):
            devices = a.split("=", 1)[1].split(",")
    print(f"loss-lens PyTorch probe benchmark: torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    print(f"CNN preset (conv 32, conv 64, dense 128) on 28x28x1 inputs, batch 64, Adam, {steps} steps per run")
    results = {}
    with tempfile.TemporaryDirectory(prefix="loss-lens-bench-") as work:
        paths = _data(work)
        for name in devices:
            device = torch.device(name, 0) if name == "cuda" else torch.device("cpu")
            t0 = time.perf_counter()
            results[name] = _run(device, steps, paths, work)
            print(f"\n{describe_device(device)}  ({time.perf_counter() - t0:.1f} s)")
            print(f"  {'loss':8} {'status':10} {'steps/s':>9} {'first loss':>11} {'last loss':>10}")
            for loss, r in results[name].items():
                print(f"  {loss:8} {r['status']:10} {r['steps/s']:9.1f} {r['first loss']:11.4f} {r['last loss']:10.4f}")
            ce, ccls = results[name]["ce"]["steps/s"], results[name]["cc-ls"]["steps/s"]
            print(f"  CC-LS step time / CE step time: {ce / ccls:.2f}")
    if "cpu" in results and "cuda" in results:
        print(f"\nCUDA / CPU steps/s: CE {results['cuda']['ce']['steps/s'] / results['cpu']['ce']['steps/s']:.1f}x, "
              f"CC-LS {results['cuda']['cc-ls']['steps/s'] / results['cpu']['cc-ls']['steps/s']:.1f}x")
        dl, dg = _agreement()
        print(f"cc_nll CUDA vs CPU (float64 inside, K = 100, spreads 0 to 1000): loss {dl:.1e}, gradient {dg:.1e} (relative)")
    print("\n" + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
