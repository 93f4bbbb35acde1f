import { CcInputError } from './errors';
import { ccMeanInto } from './normalizer';
import { CcWorkspace } from './workspace';

/**
 * Losses on plain arrays of logits z (length K) against targets y, each with its gradient
 * with respect to z.
 *
 *   cross-entropy   ℓ_CE(z; y) = (Σy)·logsumexp(z) − y·z,   ∇ = (Σy)·softmax(z) − y
 *   CC NLL          ℓ_CC(z; y) = log exp[z] − y·z,           ∇ = μ(z) − y
 *
 * log exp[z] = −log C(e^z): the CC negative log-likelihood of y under λ = softmax(z), up to
 * the shift covariance exp[z + c] = e^c·exp[z], so it needs no softmax. CC-LS is ℓ_CC on the
 * label-smoothing target y^LS = (1−α)·onehot + α/K.
 *
 * Example: ℓ_CC((1, 0); (1, 0)) = log(e − 1) − 1 = −0.4586751453870819.
 */
export interface LossResult {
  loss: number;
  grad: Float64Array;
}

const SIMPLEX_TOLERANCE = 1e-6;

function checkLogits(z: ArrayLike<number>): void {
  if (z.length < 2) throw new CcInputError(`logits need K ≥ 2 entries, got K = ${z.length}`);
  for (let k = 0; k < z.length; k++) {
    if (!Number.isFinite(z[k])) throw new CcInputError(`z[${k}] = ${String(z[k])} is not a finite number`, k);
  }
}

/** Checks that y is a point of the simplex (non-negative, sums to 1 within 1e-6). */
export function checkSimplexTarget(y: ArrayLike<number>, K: number): void {
  if (y.length !== K) throw new CcInputError(`the target has ${y.length} entries, the logits ${K}`);
  let sum = 0;
  for (let k = 0; k < K; k++) {
    const v = y[k];
    if (!Number.isFinite(v)) throw new CcInputError(`y[${k}] = ${String(v)} is not a finite number`, k);
    if (v < 0) throw new CcInputError(`y[${k}] = ${v} is negative; a CC target lies on the simplex`, k);
    sum += v;
  }
  if (Math.abs(sum - 1) > SIMPLEX_TOLERANCE) {
    throw new CcInputError(`the target sums to ${sum}, not 1; a CC target lies on the simplex`);
  }
}

/** The label-smoothing target (1 − α)·onehot(label) + α/K. */
export function labelSmoothingTarget(label: number, K: number, alpha: number): Float64Array {
  if (!Number.isInteger(K) || K < 2) throw new CcInputError(`K must be an integer ≥ 2, got ${K}`);
  if (!Number.isInteger(label) || label < 0 || label >= K) {
    throw new CcInputError(`the label ${label} is not a class index in [0, ${K - 1}]`);
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new CcInputError(`the smoothing α = ${alpha} is not in [0, 1]`);
  const y = new Float64Array(K).fill(alpha / K);
  y[label] += 1 - alpha;
  return y;
}

export function crossEntropy(z: ArrayLike<number>, y: ArrayLike<number>): LossResult {
  checkLogits(z);
  const K = z.length;
  if (y.length !== K) throw new CcInputError(`the target has ${y.length} entries, the logits ${K}`);
  let mx = -Infinity;
  for (let k = 0; k < K; k++) if (z[k] > mx) mx = z[k];
  let se = 0;
  for (let k = 0; k < K; k++) se += Math.exp(z[k] - mx);
  const lse = mx + Math.log(se);
  let ySum = 0;
  let yz = 0;
  for (let k = 0; k < K; k++) {
    if (!Number.isFinite(y[k])) throw new CcInputError(`y[${k}] = ${String(y[k])} is not a finite number`, k);
    ySum += y[k];
    yz += y[k] * z[k];
  }
  const grad = new Float64Array(K);
  for (let k = 0; k < K; k++) grad[k] = ySum * Math.exp(z[k] - lse) - y[k];
  return { loss: ySum * lse - yz, grad };
}

export function ccNll(z: ArrayLike<number>, y: ArrayLike<number>, ws = new CcWorkspace(z.length)): LossResult {
  checkLogits(z);
  const K = z.length;
  checkSimplexTarget(y, K);
  const grad = new Float64Array(K);
  const logExp = ccMeanInto(z, K, ws, 0, grad, 0);
  let yz = 0;
  for (let k = 0; k < K; k++) {
    yz += y[k] * z[k];
    grad[k] -= y[k];
  }
  return { loss: logExp - yz, grad };
}

/** CC-LS: the CC NLL of the label-smoothing target. */
export function ccLabelSmoothing(z: ArrayLike<number>, label: number, alpha: number): LossResult {
  return ccNll(z, labelSmoothingTarget(label, z.length, alpha));
}

/** Label smoothing as the paper trains it: cross-entropy on y^LS. */
export function labelSmoothingCrossEntropy(z: ArrayLike<number>, label: number, alpha: number): LossResult {
  return crossEntropy(z, labelSmoothingTarget(label, z.length, alpha));
}
