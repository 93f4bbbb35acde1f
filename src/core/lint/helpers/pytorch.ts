import { PY_SERIES_DOC, type CcHelper } from './types';

/**
 * The PyTorch CC-loss helper. Tested: test/unit/ccHelperTorch.test.ts runs it under Debian's
 * python3-torch against the float64 core (src/core/cc). Float64 inside, a custom autograd
 * Function whose backward is the CC mean from a second positive series, so no autograd graph
 * through the loop (memory O(B·K), not O(B·K·terms)).
 * The source is kept free of backticks, '${' and backslashes so that String.raw holds it verbatim
 * (one interpolation, the stability paragraph the Python helpers share: PY_SERIES_DOC).
 */
const SOURCE = String.raw`"""Continuous-categorical (CC) loss for PyTorch. Inserted by Loss Lens; MIT License,
Copyright (c) Loss Lens contributors. Self-contained: needs only torch.

    cc_nll(logits, target, reduction="mean", dim=-1)

The CC negative log-likelihood of simplex-valued targets y (soft labels, label smoothing,
distillation) under lambda = softmax(logits), one value per row over the class axis dim (the
last by default; F.cross_entropy's is 1, as in (N, C, d1, ...) logits, so a call that replaces
it passes dim=1):

    loss = log exp[z] - y . z,      exp[z] = the divided difference of exp at z_1..z_K

(cross-entropy has logsumexp(z) where CC has log exp[z]; -log exp[z] is the CC log-normalizer
log C). Gradient: mu(z) - y, mu the CC mean. reduction: "mean" (default) or "sum" over the
rows, or "none" for the per-row values (the input's shape without the class axis). logits and
target: one shape, K >= 2 classes on the class axis; pass LOGITS, not probabilities. Computed
in float64 whatever the input dtype; the result has the logits' dtype. Rows with a non-finite
logit give NaN (loss and gradient), so divergence shows; logit spreads (max - min in a row)
above 1e6 raise ValueError.

${PY_SERIES_DOC} Terms fall
faster than rho^m / m!, rho = the row's spread, so about rho + 10 sqrt(rho) + 20 of them
reach float64 precision: cost O(B K rho). Relative accuracy ~1e-14.
"""
import math

import torch

__all__ = ["cc_nll"]

MAX_SPREAD = 1e6
_BIG = 2.0 ** 500  # terms grow like e^spread: rows are rescaled past this


def _num_terms(rho):
    """How many terms leave a tail below 2^-57 of S for every row of spread <= rho.

    t_m = rho^m a_m / m! with a_m in [0, 1] decreasing, so tail / S <= P(N > M) / P(N <= M)
    for N ~ Poisson(rho), and P(N > M) <= pmf(M + 1) / (1 - rho / (M + 2)).
    """
    if rho <= 0:
        return 0
    m = max(1, math.ceil(rho))
    while True:
        q = rho / (m + 2)
        if q < 1 and -rho + (m + 1) * math.log(rho) - math.lgamma(m + 2) - math.log1p(-q) < -40.0:
            return m
        m += 1 + int(math.sqrt(rho) / 8)


def _series(x, n_terms):
    """log S and mu for float64 rows x >= 0 (B x K) whose minimum is 0."""
    B, K = x.shape
    G = torch.ones_like(x)
    V = torch.full_like(x, 1.0 / K)
    W = V.clone()
    one, tail = x.new_ones(B), x.new_zeros(B)  # S = one + tail: log1p keeps tiny spreads exact
    n_scaled = x.new_zeros(B)
    rescale = n_terms > 300  # below that nothing can pass 2^500
    for m in range(1, n_terms + 1):
        G = torch.cumsum(x * G, dim=-1) / (m + K - 1)
        t = G[:, -1]
        V = (t.unsqueeze(-1) + x * V) / (m + K)
        tail = tail + t
        W = W + V
        if rescale:
            big = torch.maximum(one + tail, W.amax(dim=-1)) > _BIG
            f = torch.where(big, torch.full_like(one, 1.0 / _BIG), torch.ones_like(one))
            G, V, W = G * f.unsqueeze(-1), V * f.unsqueeze(-1), W * f.unsqueeze(-1)
            one, tail = one * f, tail * f
            n_scaled = n_scaled + big.to(x.dtype)
    S = one + tail
    log_s = torch.where(n_scaled == 0, torch.log1p(tail), torch.log(S) + n_scaled * math.log(_BIG))
    return log_s, W / S.unsqueeze(-1)


class _CcRows(torch.autograd.Function):
    """Per-row CC NLL of float64 (B x K) logits z and targets y; gradients mu - y and -z."""

    @staticmethod
    def forward(ctx, z, y):
        B, K = z.shape
        finite = torch.isfinite(z).all(dim=-1, keepdim=True)
        z0 = torch.where(finite, z, torch.zeros_like(z))
        c = z0.amin(dim=-1, keepdim=True) if B else z0.sum(dim=-1, keepdim=True)
        x = z0 - c
        rho = float(x.max()) if B else 0.0  # the one host sync: it sizes the series
        if rho > MAX_SPREAD:
            raise ValueError(f"cc_nll: a row's logits spread over {rho:.4g} > {MAX_SPREAD:g}; no loss means anything there")
        log_s, mu = _series(x, _num_terms(rho))
        # log exp[z] - y.z written about c, so nothing cancels when the logits sit far from 0.
        loss = log_s - math.lgamma(K) - (y * x).sum(-1) + c.squeeze(-1) * (1.0 - y.sum(-1))
        nan = torch.full_like(loss, float("nan"))
        ctx.save_for_backward(torch.where(finite, mu - y, nan.unsqueeze(-1)), z)
        return torch.where(finite.squeeze(-1), loss, nan)

    @staticmethod
    @torch.autograd.function.once_differentiable  # no second derivative: fail, not zeros
    def backward(ctx, g):
        d, z = ctx.saved_tensors
        g = g.unsqueeze(-1)
        return g * d, -g * z


def cc_nll(logits, target, reduction="mean", dim=-1):
    """CC negative log-likelihood of simplex targets under softmax(logits); see the module doc."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cc_nll: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    if logits.shape != target.shape or logits.dim() < 1:
        raise ValueError(f"cc_nll: logits and target need one shape; got {tuple(logits.shape)} and {tuple(target.shape)}")
    if dim not in (-1, logits.dim() - 1):
        # The class axis last (an IndexError names a dim the input does not have).
        logits, target = logits.movedim(dim, -1), target.movedim(dim, -1)
    if logits.shape[-1] < 2:
        raise ValueError(f"cc_nll: the class axis (dim={dim}) needs K >= 2 classes; got shape {tuple(logits.shape)}")
    K = logits.shape[-1]
    z = logits.to(torch.float64).reshape(-1, K)
    y = target.to(device=logits.device, dtype=torch.float64).reshape(-1, K)
    rows = _CcRows.apply(z, y).reshape(logits.shape[:-1])
    out = rows.mean() if reduction == "mean" else rows.sum() if reduction == "sum" else rows
    return out.to(logits.dtype if logits.is_floating_point() else torch.float64)
`;

export const PYTORCH_HELPER: CcHelper = {
  framework: 'pytorch',
  moduleName: 'cc_loss',
  fileName: 'cc_loss.py',
  source: SOURCE,
  functionName: 'cc_nll',
  callTemplate: 'cc_nll({logits}, {target}, reduction={reduction})',
  importLine: 'from cc_loss import cc_nll',
};
