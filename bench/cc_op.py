"""Per-call time of the PyTorch CC op (loss and gradient, one CPU thread), side by side on the
same logits, with the largest difference between the two ways:
  - "rows": the series (CONTOUR off) against the default (the contour integral where it applies),
    both on PyTorch operations (NATIVE off);
  - "few": few classes, the PyTorch operations against the native kernel (cc_small.c), the
    kernel both with its float32 bound (1e-10, the default for these float32 logits) and with
    the float64 one (3e-14), with soft-target cross-entropy on the same logits for scale.
Run by bench/ccOp.bench.ts.

    python bench/cc_op.py [--quick]     (PYTHONPATH must hold python/)
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from loss_lens_probe import cc, native


def per_call(z, y, reps, fn=None):
    """Median ms of loss + backward over reps calls, after a warm-up; also loss and gradient."""
    fn = fn or cc.cc_nll

    def once():
        z.grad = None
        loss = fn(z, y)
        loss.sum().backward()
        return loss
    once()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        loss = once()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1e3 * times[len(times) // 2], loss.detach().clone(), z.grad.clone()


def main(argv):
    torch.set_num_threads(1)
    quick = "--quick" in argv
    g = torch.Generator().manual_seed(0)
    cc.NATIVE = False
    rows = []
    for K, spreads in ((1000, (1.0, 10.0, 100.0, 1000.0, 3000.0)), (10, (1.0, 30.0, 1000.0, 3000.0))):
        for spread in spreads:
            # Gaussian logits of about this spread, batch 64 (K = 10: with a close pair in each row,
            # which the partial fractions cannot always prove). float64, so that the two paths'
            # difference shows rather than the float32 rounding of the output.
            z = torch.randn(64, K, generator=g, dtype=torch.float64) * spread / (6 if K > 10 else 3)
            if K == 10:
                z[:, 1] = z[:, 0] + 1e-3
            z.requires_grad_(True)
            y = torch.full((64, K), 0.1 / K, dtype=torch.float64)
            y[:, 0] += 0.9
            long_series = spread >= 3000 or (K == 10 and spread >= 1000)
            reps = 1 if (quick or long_series) else 15
            cc.CONTOUR = False
            t_series, l_s, g_s = per_call(z, y, 1 if long_series else reps)
            cc.CONTOUR = True
            t_now, l_n, g_n = per_call(z, y, reps)
            diff = max(((l_n - l_s).abs() / l_s.abs().clamp_min(1)).max().item(), ((g_n - g_s).abs().max() / g_s.abs().max()).item())
            real = float((z.max(-1).values - z.min(-1).values).mean())
            rows.append({"K": K, "spread": round(real, 1), "series_ms": t_series, "default_ms": t_now, "difference": diff})
    cc.CONTOUR = True
    few = []
    kernel = native.kernel() is not None
    ce = lambda z, y: -(y * F.log_softmax(z, dim=-1)).sum(dim=-1)  # noqa: E731 (as train.py)
    for K in (10, 32):
        for spread, pair in ((1.0, False), (30.0, False), (30.0, True), (300.0, False), (300.0, True)):
            # float32 logits as in training: Gaussian, scaled to about this spread; "pair": a close
            # pair on top in every row, which the partial fractions cannot prove.
            z = torch.randn(64, K, generator=g, dtype=torch.float64) * spread / 5
            if pair:
                z[:, 0] = z.max(-1).values + 1.0
                z[:, 1] = z[:, 0] - 1e-3
            z = z.float().requires_grad_(True)
            y = torch.full((64, K), 0.1 / K)
            y[:, 0] += 0.9
            reps = 5 if quick else 200
            t_ce = per_call(z, y, reps, ce)[0]
            cc.NATIVE = False
            t_ops, l_o, g_o = per_call(z, y, reps)
            cc.NATIVE = True
            t_nat, l_n, g_n = per_call(z, y, reps) if kernel else (float("nan"), l_o, g_o)
            cc.NATIVE_TOL = 3e-14
            t_strict = per_call(z, y, reps)[0] if kernel else float("nan")
            cc.NATIVE, cc.NATIVE_TOL = False, None
            diff = max(((l_n.double() - l_o.double()).abs() / l_o.double().abs().clamp_min(1)).max().item(), ((g_n - g_o).abs().max() / g_o.abs().max()).item())
            real = float((z.max(-1).values - z.min(-1).values).mean())
            few.append({"K": K, "spread": round(real, 1), "pair": pair, "ce_ms": t_ce, "ops_ms": t_ops, "native_ms": t_nat, "native_strict_ms": t_strict, "difference": diff})
    print(json.dumps({"rows": rows, "few": few, "kernel": native.status()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
