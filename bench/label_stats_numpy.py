#!/usr/bin/python3
"""The baseline for `npm run bench`'s label statistics: the same per-row figures, validity
counts, histograms and class aggregates as `loss-lens inspect --no-naive`, computed with
numpy (Debian's python3-numpy), vectorized over the whole array.

Usage: label_stats_numpy.py FILE.npy [SUM_TOLERANCE]; prints one JSON object.
"""
import json
import sys
import time

import numpy as np

t0 = time.perf_counter()
path = sys.argv[1]
tol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-3
p = np.load(path).astype(np.float64)
N, K = p.shape
finite = np.isfinite(p).all(axis=1)
negative = finite & (p < 0).any(axis=1)
s = p.sum(axis=1)
sum_off = finite & (np.abs(s - 1) > tol)
valid = finite & ~negative & ~sum_off
v = p[valid]
with np.errstate(divide="ignore", invalid="ignore"):
    plogp = np.where(v > 0, v * np.log(np.where(v > 0, v, 1)), 0.0)
H = -plogp.sum(axis=1)
logK = np.log(K)
mx = v.max(axis=1)
arg = v.argmax(axis=1)
tv = np.abs(v - 1.0 / K).sum(axis=1) / 2
vertex = (1 - mx + (s[valid] - mx)) / 2
bins = 20
edges = np.linspace(0, 1, bins + 1)
hist = lambda x: np.bincount(np.clip((x * bins).astype(np.int64), 0, bins - 1), minlength=bins).tolist()
out = {
    "rows": int(N),
    "classes": int(K),
    "counts": {
        "valid": int(valid.sum()),
        "nonFinite": int((~finite).sum()),
        "negative": int(negative.sum()),
        "sumOff": int(sum_off.sum()),
    },
    "histograms": {"entropy": hist(H / logK), "maxProb": hist(mx), "tvToUniform": hist(tv)},
    "classCounts": np.bincount(arg, minlength=K).tolist(),
    "classMeans": v.mean(axis=0).tolist(),
    "means": {
        "entropy": float(H.mean()),
        "maxProb": float(mx.mean()),
        "tvToUniform": float(tv.mean()),
        "klToUniform": float((logK - H).mean()),
        "distanceToVertex": float(vertex.mean()),
    },
    "seconds": time.perf_counter() - t0,
}
print(json.dumps(out))
