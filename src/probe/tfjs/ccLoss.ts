/**
 * The training losses as tfjs ops: cross-entropy from tfjs' own kernels, and the CC NLL as a
 * custom-gradient op whose kernel is the float64 core (src/core/cc).
 *
 * Why the core and not tensor ops: tfjs has no float64, and the CC normalizer needs it near
 * uniform λ (where every network starts): a float32 evaluation of the positive series loses
 * up to K·m ulps in its long sums, too much for the 1e-5 the probes promise at K = 1000. The
 * core is exact to float64 at every λ, uniform included, and its gradient μ(z) − y comes out
 * of the same series. The price is one read of the logits (B×K floats) per step; on the
 * CPU backends (wasm, cpu, tfjs-node) that is a copy, on tfjs-node-gpu a device sync.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { CcInputError } from '../../core/cc/errors';
import { ccMeanInto } from '../../core/cc/normalizer';
import { logExpMeanPartialFraction, preferPartialFraction } from '../../core/cc/partialFraction';
import { MAX_SPREAD } from '../../core/cc/series';
import { CcWorkspace } from '../../core/cc/workspace';
import type { LossFamily } from '../../shared/probeProtocol';

type TfCore = typeof tfc;

/** The logits of a training step left the range where any loss means something. */
export class DivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DivergedError';
  }
}

/**
 * Mean CC NLL over the rows of z (B×K) against targets y (B×K on the simplex), in float64,
 * with its gradient (μ(z) − y)/B into `grad`. Targets are renormalized in float64 first: float32
 * rounding leaves Σy a few ulps from 1, which is not the user's doing.
 */
export function ccNllMean(
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  B: number,
  K: number,
  grad: Float64Array,
  ws: CcWorkspace,
): number {
  let total = 0;
  for (let r = 0; r < B; r++) {
    const base = r * K;
    let lo = Infinity;
    let hi = -Infinity;
    let ySum = 0;
    for (let k = 0; k < K; k++) {
      const v = z[base + k];
      if (!Number.isFinite(v)) throw new DivergedError(`row ${r + 1}: logit ${k + 1} is ${String(v)}`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const t = y[base + k];
      if (!(t >= 0)) throw new CcInputError(`row ${r + 1}, column ${k + 1}: target ${String(t)} is not ≥ 0`, k, r);
      ySum += t;
    }
    if (hi - lo > MAX_SPREAD) {
      throw new DivergedError(`row ${r + 1}: the logits spread over ${(hi - lo).toPrecision(3)} (more than ${MAX_SPREAD})`);
    }
    if (!(Math.abs(ySum - 1) <= 1e-3)) {
      throw new CcInputError(`row ${r + 1}: the target sums to ${ySum}, not 1; a CC target lies on the simplex`, undefined, r);
    }
    // Training drives CC logits far apart (spreads in the hundreds), where the series is long
    // and the partial fractions are exact and O(K²): try them first for small K.
    let logExp = preferPartialFraction(K, hi - lo) ? logExpMeanPartialFraction(z, K, base, hi, pfTerms(K), grad, base) : NaN;
    if (!(logExp === logExp)) {
      logExp = ccMeanInto(z, K, ws, base, grad, base);
    }
    let yz = 0;
    for (let k = 0; k < K; k++) {
      const t = y[base + k] / ySum;
      yz += t * z[base + k];
      grad[base + k] = (grad[base + k] - t) / B;
    }
    total += logExp - yz;
  }
  return total / B;
}

let pfScratch = new Float64Array(32);
const pfTerms = (K: number): Float64Array => (pfScratch.length >= K ? pfScratch : (pfScratch = new Float64Array(K)));

/**
 * The CC loss op: (logits B×K float32, targets B×K) → scalar mean CC NLL, with a custom
 * gradient. Works on every backend, inside `optimizer.minimize` and `tf.grads`.
 */
export function makeCcLoss(tf: TfCore): (logits: tfc.Tensor, targets: tfc.Tensor) => tfc.Scalar {
  const ws = new CcWorkspace();
  // customGrad's type takes (...inputs, save) as one rest list; the cast states our arity.
  const f = (logits: tfc.Tensor, targets: tfc.Tensor, save: tfc.GradSaveFunc) => {
    const [B, K] = logits.shape as [number, number];
    const grad = new Float64Array(B * K);
    const value = ccNllMean(logits.dataSync(), targets.dataSync(), B, K, grad, ws);
    const g = tf.tensor2d(Float32Array.from(grad), [B, K]);
    save([g]);
    return {
      value: tf.scalar(value),
      gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => [tf.mul(saved[0], dy), tf.zerosLike(targets)],
    };
  };
  const op = tf.customGrad(f as unknown as Parameters<TfCore["customGrad"]>[0]);
  return op as (logits: tfc.Tensor, targets: tfc.Tensor) => tfc.Scalar;
}

/** Mean cross-entropy −Σ y·log softmax(z) over rows, with tfjs' own kernels. */
export function crossEntropyMean(tf: TfCore, logits: tfc.Tensor, targets: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))));
}

/** The loss of a family as a function of (logits, targets). */
export function lossFunction(tf: TfCore, family: LossFamily): (logits: tfc.Tensor, targets: tfc.Tensor) => tfc.Scalar {
  if (family === 'cc') return makeCcLoss(tf);
  return (logits, targets) => crossEntropyMean(tf, logits, targets);
}
