import { PY_SERIES_DOC, type CcHelper } from './types';

/**
 * The TensorFlow/Keras CC-loss helper: the PyTorch helper's method transcribed to
 * tf.custom_gradient and tf.while_loop (graph-safe: model.fit traces losses). TensorFlow is
 * not installed where Loss Lens is tested, so test/unit/ccHelperSyntax.test.ts checks it with
 * py_compile only; the header says so to the user.
 * The source is kept free of backticks, '${' and backslashes so that String.raw holds it verbatim
 * (one interpolation, the stability paragraph the Python helpers share: PY_SERIES_DOC).
 */
const SOURCE = String.raw`"""Continuous-categorical (CC) loss for TensorFlow / Keras. Inserted by Loss Lens;
MIT License, Copyright (c) Loss Lens contributors. Self-contained: needs only tensorflow 2.

    cc_nll(logits, target, reduction="mean")

The CC negative log-likelihood of simplex-valued targets y (soft labels, label smoothing,
distillation) under lambda = softmax(logits), one value per row over the last axis:

    loss = log exp[z] - y . z,      exp[z] = the divided difference of exp at z_1..z_K

(cross-entropy has logsumexp(z) where CC has log exp[z]; -log exp[z] is the CC log-normalizer
log C). Gradient (tf.custom_gradient): mu(z) - y, mu the CC mean. reduction: "mean" (default)
or "sum" over the rows, or "none" for the per-row values. logits and target: (..., K), K >= 2;
pass LOGITS, not probabilities. Float64 inside; the result has the logits' dtype. Works
eagerly and inside tf.function / model.fit. With Keras, per-sample values:
    model.compile(loss=lambda y_true, y_pred: cc_nll(y_pred, y_true, reduction="none"), ...)
Rows with a non-finite logit give NaN; a logit spread (max - min in a row) above 1e6 fails a
tf.debugging assertion.

${PY_SERIES_DOC} The loop stops
when the tails are provably below 2^-56 (t_{m+1} <= t_m rho / (m + 1), rho = the spread):
about rho + 10 sqrt(rho) + 20 terms, cost O(B K rho).

Testing: this is the same method as Loss Lens' PyTorch helper, which CI checks against the
extension's float64 core to 1e-10; this TensorFlow transcription is checked for syntax only
(TensorFlow is not installed where Loss Lens is tested).
"""
import math

import tensorflow as tf

__all__ = ["cc_nll"]

MAX_SPREAD = 1e6
_BIG = 2.0 ** 500  # terms grow like e^spread: rows are rescaled past this
_EPS = 2.0 ** -56


def _series(x):
    """log S and mu for float64 rows x >= 0 (B x K) whose minimum is 0."""
    B, K = tf.shape(x)[0], tf.shape(x)[1]
    k = tf.cast(K, tf.float64)
    rho = tf.reduce_max(x, axis=-1)

    def converged(m, t, V, S):
        q = rho / (m + 1.0)
        return (q < 1.0) & (tf.maximum(t, tf.reduce_max(V, axis=-1)) * q <= _EPS * (1.0 - q) * S)

    def body(m, G, V, W, one, tail, n_scaled, done):
        m = m + 1.0
        G = tf.math.cumsum(x * G, axis=-1) / (m + k - 1.0)
        t = G[:, -1]
        V = (t[:, None] + x * V) / (m + k)
        tail, W = tail + t, W + V
        big = tf.maximum(one + tail, tf.reduce_max(W, axis=-1)) > _BIG
        f = tf.where(big, tf.fill([B], tf.constant(1.0 / _BIG, tf.float64)), tf.ones([B], tf.float64))
        G, V, W, one, tail = G * f[:, None], V * f[:, None], W * f[:, None], one * f, tail * f
        n_scaled = n_scaled + tf.cast(big, tf.float64)
        done = done | converged(m, G[:, -1], V, one + tail)
        return m, G, V, W, one, tail, n_scaled, done

    V0 = tf.ones_like(x) / k
    one = tf.ones([B], tf.float64)
    zero = tf.zeros([B], tf.float64)
    state = (tf.constant(0.0, tf.float64), tf.ones_like(x), V0, V0, one, zero, zero,
             converged(tf.constant(0.0, tf.float64), one, V0, one))
    _, _, _, W, one, tail, n_scaled, _ = tf.while_loop(
        lambda *s: tf.logical_not(tf.reduce_all(s[-1])), body, state,
        maximum_iterations=int(2 * MAX_SPREAD) + 1000)
    S = one + tail
    log_s = tf.where(n_scaled == 0.0, tf.math.log1p(tail), tf.math.log(S) + n_scaled * math.log(_BIG))
    return log_s, W / S[:, None]


@tf.custom_gradient
def _cc_rows(z, y):
    """Per-row CC NLL of float64 (B x K) logits z and targets y; gradients mu - y and -z."""
    finite = tf.reduce_all(tf.math.is_finite(z), axis=-1)
    z0 = tf.where(finite[:, None], z, tf.zeros_like(z))
    c = tf.reduce_min(z0, axis=-1)
    x = z0 - c[:, None]
    check = tf.debugging.assert_less_equal(
        tf.reduce_max(x), tf.constant(MAX_SPREAD, tf.float64),
        message="cc_nll: a row's logits spread over more than 1e6; no loss means anything there")
    with tf.control_dependencies([check]):
        log_s, mu = _series(tf.identity(x))
    K = tf.cast(tf.shape(z)[-1], tf.float64)
    # log exp[z] - y.z written about c, so nothing cancels when the logits sit far from 0.
    loss = log_s - tf.math.lgamma(K) - tf.reduce_sum(y * x, axis=-1) + c * (1.0 - tf.reduce_sum(y, axis=-1))
    nan = tf.fill(tf.shape(z), tf.constant(math.nan, tf.float64))
    d = tf.where(finite[:, None], mu - y, nan)
    loss = tf.where(finite, loss, nan[:, 0])

    def grad(upstream):
        g = upstream[:, None]
        return g * d, -g * z

    return loss, grad


def cc_nll(logits, target, reduction="mean"):
    """CC negative log-likelihood of simplex targets under softmax(logits); see the module doc."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cc_nll: reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    logits = tf.convert_to_tensor(logits)
    K = tf.shape(logits)[-1]
    z = tf.reshape(tf.cast(logits, tf.float64), [-1, K])
    y = tf.reshape(tf.cast(target, tf.float64), [-1, K])
    rows = tf.reshape(_cc_rows(z, y), tf.shape(logits)[:-1])
    out = tf.reduce_mean(rows) if reduction == "mean" else tf.reduce_sum(rows) if reduction == "sum" else rows
    return tf.cast(out, logits.dtype)
`;

export const KERAS_HELPER: CcHelper = {
  framework: 'keras',
  moduleName: 'cc_loss',
  fileName: 'cc_loss.py',
  source: SOURCE,
  functionName: 'cc_nll',
  callTemplate: 'cc_nll({logits}, {target}, reduction={reduction})',
  importLine: 'from cc_loss import cc_nll',
};
