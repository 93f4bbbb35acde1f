import type { CcHelper } from './types';

/**
 * The TensorFlow.js CC-loss helper. tfjs has no float64 and a float32 series is not accurate
 * enough at K = 1000, so its kernel reads the logits (dataSync) and runs the series in float64
 * JavaScript, like src/probe/tfjs/ccLoss.ts but self-contained. This TypeScript text is the only
 * source: JavaScript files get it type-stripped, as ESM or CommonJS (tfjsVariants.ts), and every
 * variant imports the tfjs package the user's file imports. Tested under Node by
 * test/unit/ccHelperTfjs.test.ts (TS, .mjs and .cjs; import mapped to tfjs-core).
 * The source is kept free of backticks, '${' and backslashes so that String.raw holds it verbatim.
 */
const SOURCE = String.raw`/**
 * Continuous-categorical (CC) loss for TensorFlow.js. Inserted by Loss Lens; MIT License,
 * Copyright (c) Loss Lens contributors. Self-contained: needs only TensorFlow.js (the package
 * imported below).
 *
 *   ccNll(logits, target, reduction = 'mean')
 *
 * The CC negative log-likelihood of simplex-valued targets y (soft labels, label smoothing,
 * distillation) under λ = softmax(logits), one value per row over the last axis:
 *
 *   loss = log exp[z] − y·z,      exp[z] = the divided difference of exp at z_1..z_K
 *
 * (cross-entropy has logsumexp(z) where CC has log exp[z]; −log exp[z] is the CC
 * log-normalizer log C). Gradient (tf.customGrad): μ(z) − y, μ the CC mean. reduction:
 * 'mean' (default) or 'sum' over the rows, or 'none' for the per-row values. logits and
 * target: (..., K), K ≥ 2; pass LOGITS, not probabilities. Works inside tf.grads,
 * tf.variableGrads and optimizer.minimize. Rows with a non-finite logit give NaN; a logit
 * spread (max − min in a row) above 1e6 throws.
 *
 * Precision: tfjs has no float64, and a float32 series loses up to K·(number of terms) ulps,
 * so the kernel reads the logits once per call (dataSync: a copy on the CPU and wasm
 * backends, a GPU read-back on webgl/webgpu) and evaluates in float64 JavaScript. Value and
 * gradient are exact to float32 rounding (~1e-7 relative) at every spread, uniform included.
 *
 * Stability: the textbook formula exp[z] = Σ_k e^{z_k} / Π_{j≠k} (z_k − z_j) is not used: it
 * cancels catastrophically for close logits and divides by zero for equal ones, and every
 * network starts out there. With c = min z and x = z − c ≥ 0 two series of non-negative
 * terms are summed (no subtraction anywhere, so exactly uniform logits are exact):
 *
 *   exp[z] = e^c / (K−1)! · S,   S = Σ_m t_m,   t_m = G_m[K−1],
 *   G_0 = 1,  G_m = cumsum(x ⊙ G_{m−1}) / (m + K − 1)
 *   μ = W / S,  W = Σ_m V_m,  V_0 = 1/K,  V_m = (t_m + x ⊙ V_{m−1}) / (m + K)
 *
 * (V is the same series with node x_j repeated: μ_j = exp[z, z_j] / exp[z].) The loop stops
 * when the tails are provably below 2^−56 (t_{m+1} ≤ t_m·ρ/(m + 1), ρ = the spread): about
 * ρ + 10√ρ + 20 terms, cost O(K·ρ) per row.
 */
import * as tf from '@tensorflow/tfjs';

export type CcReduction = 'mean' | 'sum' | 'none';

const MAX_SPREAD = 1e6;
const BIG = 2 ** 500; // terms grow like e^spread: a row is rescaled past this
const LOG_BIG = 500 * Math.LN2;
const EPS = 2 ** -56;

/**
 * The CC NLL of one row (float64), with its gradient μ − y written into dz. Scratch arrays
 * x, G, V have length K.
 */
function ccRow(z: ArrayLike<number>, y: ArrayLike<number>, base: number, K: number, dz: Float32Array, x: Float64Array, G: Float64Array, V: Float64Array): number {
  let c = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < K; k++) {
    c = Math.min(c, z[base + k]);
    hi = Math.max(hi, z[base + k]);
  }
  const rho = hi - c;
  if (!Number.isFinite(rho)) {
    dz.fill(NaN, base, base + K);
    return NaN;
  }
  if (rho > MAX_SPREAD) throw new Error('ccNll: the logits of a row spread over ' + rho.toPrecision(4) + ' > 1e6; no loss means anything there');
  const W = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    x[k] = z[base + k] - c;
    G[k] = 1;
    V[k] = W[k] = 1 / K;
  }
  let one = 1; // S = one + tail, so that log1p keeps tiny spreads exact
  let tail = 0;
  let logScale = 0;
  for (let m = 1; rho > 0; m++) {
    let acc = 0;
    for (let k = 0; k < K; k++) {
      acc += x[k] * G[k];
      G[k] = acc / (m + K - 1);
    }
    const t = G[K - 1];
    let vMax = 0;
    let wMax = 0;
    for (let k = 0; k < K; k++) {
      V[k] = (t + x[k] * V[k]) / (m + K);
      W[k] += V[k];
      vMax = Math.max(vMax, V[k]);
      wMax = Math.max(wMax, W[k]);
    }
    tail += t;
    let scale = 1;
    if (Math.max(one + tail, wMax) > BIG) {
      for (let k = 0; k < K; k++) {
        G[k] /= BIG;
        V[k] /= BIG;
        W[k] /= BIG;
      }
      one /= BIG;
      tail /= BIG;
      logScale += LOG_BIG;
      scale = BIG;
    }
    const q = rho / (m + 1);
    if (q < 1 && (Math.max(t, vMax) / scale) * q <= EPS * (1 - q) * (one + tail)) break;
  }
  const S = one + tail;
  let lgammaK = 0; // log (K−1)!
  for (let i = 2; i < K; i++) lgammaK += Math.log(i);
  let yx = 0;
  let ySum = 0;
  for (let k = 0; k < K; k++) {
    yx += y[base + k] * x[k];
    ySum += y[base + k];
    dz[base + k] = W[k] / S - y[base + k];
  }
  const logS = logScale === 0 ? Math.log1p(tail) : Math.log(S) + logScale;
  // log exp[z] − y·z written about c, so nothing cancels when the logits sit far from 0.
  return logS - lgammaK - yx + c * (1 - ySum);
}

/** Per-row CC NLL of (B × K) logits and targets; gradients (μ − y)·dy and −z·dy. */
const ccRows = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [logits, target, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  const [B, K] = logits.shape;
  const z = logits.dataSync();
  const y = target.dataSync();
  const loss = new Float32Array(B);
  const dz = new Float32Array(B * K);
  const x = new Float64Array(K);
  const G = new Float64Array(K);
  const V = new Float64Array(K);
  for (let b = 0; b < B; b++) loss[b] = ccRow(z, y, b * K, K, dz, x, G, V);
  save([tf.tensor2d(dz, [B, K]), logits]);
  return {
    value: tf.tensor1d(loss),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = tf.expandDims(dy, 1);
      return [tf.mul(g, saved[0]), tf.neg(tf.mul(g, saved[1]))];
    },
  };
});

/** CC negative log-likelihood of simplex targets under softmax(logits); see the header. */
export function ccNll(logits: tf.Tensor, target: tf.Tensor, reduction: CcReduction = 'mean'): tf.Tensor {
  const K = logits.shape[logits.shape.length - 1];
  if (logits.shape.join() !== target.shape.join() || !(K >= 2)) {
    throw new Error('ccNll: logits and target need one shape [..., K], K >= 2; got [' + logits.shape.join() + '] and [' + target.shape.join() + ']');
  }
  return tf.tidy(() => {
    const z = tf.reshape(tf.cast(logits, 'float32'), [-1, K]);
    const rows = tf.reshape(ccRows(z, tf.reshape(tf.cast(target, 'float32'), [-1, K])), logits.shape.slice(0, -1));
    return reduction === 'mean' ? tf.mean(rows) : reduction === 'sum' ? tf.sum(rows) : rows;
  });
}
`;

export const TFJS_HELPER: CcHelper = {
  framework: 'tfjs',
  moduleName: 'ccLoss',
  fileName: 'ccLoss.ts',
  source: SOURCE,
  functionName: 'ccNll',
  callTemplate: 'ccNll({logits}, {target}, {reduction})',
  importLine: "import { ccNll } from './ccLoss';",
  jsModule: 'ts',
};
