"""Entry point: ``python -m loss_lens_probe`` runs the TorchJob read from stdin.

    --bench      the probe on CUDA and the CPU side by side, steps/s (see bench.py)
    --env        print {"torch", "cuda", "device"} as JSON (interpreter discovery)
    --cc-kernel  build (or find) the native few-class kernel; print what the CC loss's few-class
                 CPU path runs on as JSON {"native": bool, "status": str}
    --cc-check   read {"z", "y", "dtype"} from stdin, print {"loss", "grad"} (tests of cc_nll;
                 optional "mean": "table" | "loop", "device", "contour": false, "native": false,
                 "nativeTol": 1e-10, "paths": true, "kernel": true);
                 several requests, one JSON object a line, give one answer a line
"""
import json
import sys


def _env():
    from .train import describe_device, pick_device
    import torch

    device = pick_device("auto")
    print(json.dumps({"torch": torch.__version__, "cuda": bool(torch.cuda.is_available()), "device": describe_device(device)}))
    return 0


def _cc_check():
    import torch
    from . import cc

    for line in sys.stdin.read().splitlines():
        if line.strip():
            print(json.dumps(_cc_one(json.loads(line), torch, cc)), flush=True)
    return 0


def _cc_one(req, torch, cc):
    # "mean": "table" | "loop" forces one evaluation of the gradient (both are tested on CPU).
    cc.MEAN_METHOD = req.get("mean", "auto")
    # "contour": false keeps many-class rows on the series (to test it there too).
    cc.CONTOUR = bool(req.get("contour", True))
    # "native": false keeps the few-class CPU path on its PyTorch operations (to test both).
    cc.NATIVE = bool(req.get("native", True))
    # "nativeTol": the kernel's partial-fraction bound, whatever the dtype (to check 1e-10 in float64).
    cc.NATIVE_TOL = req.get("nativeTol")
    dtype = {"float32": torch.float32, "float64": torch.float64}[req.get("dtype", "float64")]
    device = torch.device(req.get("device", "cpu"))
    z = torch.tensor(req["z"], dtype=torch.float64).to(device=device, dtype=dtype).requires_grad_(True)
    y = torch.tensor(req["y"], dtype=torch.float64).to(device=device, dtype=dtype)
    loss = cc.cc_nll(z, y)
    loss.sum().backward()
    out = {"loss": loss.detach().double().cpu().tolist(), "grad": z.grad.double().cpu().tolist()}
    if req.get("kernel"):
        # How the native kernel (cc_nll's default on the CPU for K <= 32) takes the rows: by the
        # partial fractions, the series, or left to the PyTorch path; null without the kernel.
        out["kernel"] = cc.native_paths(z.detach())
    if req.get("paths"):
        # How many rows each contour accepts (as cc_nll runs them: the line, then the hyperbola).
        zd = z.detach().double()
        out["paths"] = {}
        cc._contour_rows(zd - zd.min(dim=-1, keepdim=True).values, out["paths"])
    return out


def main(argv):
    if "--env" in argv:
        return _env()
    if "--cc-kernel" in argv:
        from . import native

        print(json.dumps({"native": native.kernel() is not None, "status": native.status()}))
        return 0
    if "--cc-check" in argv:
        return _cc_check()
    if "--bench" in argv:
        from .bench import main as bench_main

        return bench_main([a for a in argv if a != "--bench"])
    from .train import main as train_main

    return train_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
