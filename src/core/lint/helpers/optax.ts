import { PY_SERIES_DOC, type CcHelper } from './types';

/**
 * The JAX/optax CC-loss helper: the PyTorch helper's method transcribed to jax.custom_vjp and
 * lax.while_loop (a dynamic stop, so the loop is never differentiated: the VJP is the CC mean).
 * JAX is not installed where Loss Lens is tested: test/unit/ccHelperSyntax.test.ts compiles it
 * and runs its arithmetic with numpy standing in for jax.numpy; the header says so.
 * The source is kept free of backticks, '${' and backslashes so that String.raw holds it verbatim
 * (one interpolation, the stability paragraph the Python helpers share: PY_SERIES_DOC).
 */
const SOURCE = String.raw`"""Continuous-categorical (CC) loss for JAX / optax. Inserted by Loss Lens; MIT License,
Copyright (c) Loss Lens contributors. Self-contained: needs only jax.

    cc_nll(logits, target, reduction="mean")

The CC negative log-likelihood of simplex-valued targets y (soft labels, label smoothing,
distillation) under lambda = softmax(logits), one value per row over the last axis:

    loss = log exp[z] - y . z,      exp[z] = the divided difference of exp at z_1..z_K

(cross-entropy, e.g. optax.softmax_cross_entropy, has logsumexp(z) where CC has log exp[z];
-log exp[z] is the CC log-normalizer log C). Gradient (jax.custom_vjp): mu(z) - y, mu the CC
mean. reduction: "mean" (default) or "sum" over the rows, or "none" for the per-row values
(what optax's losses return). logits and target: (..., K), K >= 2; pass LOGITS, not
probabilities. Works under jit, grad and vmap. The result has the logits' dtype.

Precision: float64 inside when jax_enable_x64 is on (jax.config.update("jax_enable_x64", True)),
relative accuracy ~1e-14; otherwise float32, about 1e-6 relative (the series sums K numbers
per term). Rows with a non-finite logit, or a logit spread (max - min) above 1e6, give NaN:
under jit a loss cannot raise.

${PY_SERIES_DOC} A
lax.while_loop stops when the tails are provably below the working precision
(t_{m+1} <= t_m rho / (m + 1), rho = the spread): about rho + 10 sqrt(rho) + 20 terms,
cost O(B K rho).

Testing: this is the same method as Loss Lens' PyTorch helper, which CI checks against the
extension's float64 core to 1e-10. JAX is not installed where Loss Lens is tested: this
transcription is checked for syntax, and its arithmetic with numpy standing in for jax.numpy
(no tracing, jit or custom_vjp machinery exercised).
"""
import math

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["cc_nll"]

MAX_SPREAD = 1e6


def _series(x):
    """log S and mu for rows x >= 0 (B x K) whose minimum is 0, in x's dtype."""
    B, K = x.shape
    info = jnp.finfo(x.dtype)
    big = 2.0 ** (info.maxexp // 2)  # terms grow like e^spread: rows are rescaled past this
    eps = float(info.eps) / 4
    rho = x.max(axis=-1)

    def converged(m, t, V, S):
        q = rho / (m + 1)
        return (q < 1) & (jnp.maximum(t, V.max(axis=-1)) * q <= eps * (1 - q) * S)

    def body(state):
        m, G, V, W, one, tail, n_scaled, done = state
        m = m + 1
        G = jnp.cumsum(x * G, axis=-1) / (m + K - 1)
        t = G[:, -1]
        V = (t[:, None] + x * V) / (m + K)
        tail, W = tail + t, W + V
        rescale = jnp.maximum(one + tail, W.max(axis=-1)) > big
        f = jnp.where(rescale, 1.0 / big, 1.0).astype(x.dtype)
        G, V, W, one, tail = G * f[:, None], V * f[:, None], W * f[:, None], one * f, tail * f
        done = done | converged(m, G[:, -1], V, one + tail)
        return m, G, V, W, one, tail, n_scaled + rescale, done

    def cond(state):
        return (state[0] < 2 * MAX_SPREAD + 1000) & ~jnp.all(state[-1])

    V0 = jnp.full_like(x, 1.0 / K)
    one, zero = jnp.ones(B, x.dtype), jnp.zeros(B, x.dtype)
    state = (jnp.array(0, jnp.int32), jnp.ones_like(x), V0, V0, one, zero, jnp.zeros(B, jnp.int32), converged(0, one, V0, one))
    _, _, _, W, one, tail, n_scaled, _ = lax.while_loop(cond, body, state)
    S = one + tail
    log_s = jnp.where(n_scaled == 0, jnp.log1p(tail), jnp.log(S) + n_scaled * math.log(big))
    return log_s, W / S[:, None]


def _rows_fwd(z, y):
    """Per-row CC NLL of (B x K) logits z and targets y, and the residuals of its gradient."""
    K = z.shape[-1]
    finite = jnp.all(jnp.isfinite(z), axis=-1)
    c = jnp.where(finite[:, None], z, 0).min(axis=-1)
    x = jnp.where(finite[:, None], z - c[:, None], 0)
    ok = finite & (x.max(axis=-1) <= MAX_SPREAD)
    x = jnp.where(ok[:, None], x, 0)
    log_s, mu = _series(x)
    # log exp[z] - y.z written about c, so nothing cancels when the logits sit far from 0.
    loss = log_s - math.lgamma(K) - (y * x).sum(axis=-1) + c * (1 - y.sum(axis=-1))
    loss = jnp.where(ok, loss, jnp.nan)
    return loss, (jnp.where(ok[:, None], mu - y, jnp.nan), z)


@jax.custom_vjp
def _cc_rows(z, y):
    return _rows_fwd(z, y)[0]


def _rows_bwd(res, g):
    d, z = res
    return g[:, None] * d, -g[:, None] * z


_cc_rows.defvjp(_rows_fwd, _rows_bwd)


def cc_nll(logits, target, reduction="mean"):
    """CC negative log-likelihood of simplex targets under softmax(logits); see the module doc."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cc_nll: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    logits = jnp.asarray(logits)
    K = logits.shape[-1]
    work = jnp.result_type(float)  # float64 under jax_enable_x64, else float32
    z = logits.astype(work).reshape(-1, K)
    y = jnp.asarray(target).astype(work).reshape(-1, K)
    rows = _cc_rows(z, y).reshape(logits.shape[:-1])
    out = rows.mean() if reduction == "mean" else rows.sum() if reduction == "sum" else rows
    return out.astype(logits.dtype if jnp.issubdtype(logits.dtype, jnp.floating) else work)
`;

export const OPTAX_HELPER: CcHelper = {
  framework: 'optax',
  moduleName: 'cc_loss',
  fileName: 'cc_loss.py',
  source: SOURCE,
  functionName: 'cc_nll',
  callTemplate: 'cc_nll({logits}, {target}, reduction={reduction})',
  importLine: 'from cc_loss import cc_nll',
};
