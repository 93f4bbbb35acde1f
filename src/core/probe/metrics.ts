import type { EvalPoint, LossFamily } from '../../shared/probeProtocol';
import { NAIVE_MAX_K, NEAR_UNIFORM_DIGITS_LOST, analyzeEta, predictDigitsLost } from '../cc/analysis';
import { crossEntropy, ccNll } from '../cc/losses';
import { naiveLogC, naiveTermStats } from '../cc/naive';
import { logExpUnchecked } from '../cc/normalizer';
import { MAX_SPREAD } from '../cc/series';
import { CcWorkspace } from '../cc/workspace';

/**
 * Figures of a model's logits on held-out rows, the same for every backend.
 *
 * Loss: the run's own loss (cross-entropy or CC NLL by the core, in float64) of each row,
 * averaged. Targets are renormalized per row in float64 first: float32 soft rows sum to 1
 * only within float32 rounding, and the core's CC loss insists on 1e-6.
 *
 * Diverged models never make this throw:
 *  - a row with a non-finite logit counts as wrong for accuracy and is left out of every
 *    other figure; the loss is then NaN (the held-out loss is undefined), `nonFinite` true.
 *  - a CC row whose logit spread exceeds the core's MAX_SPREAD (1e6) has no CC loss Loss
 *    Lens can compute: it is left out of the loss mean (counted in ccOutOfRangeRows) and
 *    marks `naiveFailure`, because at that point no float32 CC normalizer can be checked
 *    against an exact one: the CC pipeline has left the range where it is verified.
 *
 * Naive-normalizer figures use η = log softmax(z) (the λ the model predicts, normalized)
 * and are O(K²) per row, so they run on at most `naiveRows` rows (default 256) picked with
 * a fixed stride: nearUniform (the core's definition: predicted float32 digits lost above
 * NEAR_UNIFORM_DIGITS_LOST), digits lost (predicted, float32), and naiveFailure (the float32
 * naive log C is NaN/∞ or more than 1 nat from the exact one). Above the core's NAIVE_MAX_K
 * the digits lost are the core's sampled estimate and the naive formula is not run.
 * The rows are also capped by a work budget, rows·K² ≤ `naiveBudget` (default 2^25, about
 * half a second: the core's float32 emulation costs about 10 ns per pair of classes, the
 * term sizes 4 ns), so large K gets fewer rows: all 256 up to K ≈ 360, 33 at K = 1000, and
 * never fewer than 8.
 */
export const ECE_BINS = 15;
export const DEFAULT_NAIVE_ROWS = 256;
export const DEFAULT_NAIVE_BUDGET = 2 ** 25;
const MIN_NAIVE_ROWS = 8;
/** |naive − exact| log C beyond which the naive float32 normalizer counts as failed. */
export const NAIVE_FAILURE_NATS = 1;

export interface EvalDetail {
  point: Omit<EvalPoint, 'step'>;
  /** Rows whose loss entered the mean. */
  lossRows: number;
  nonFiniteRows: number;
  /** CC rows beyond MAX_SPREAD (see above). */
  ccOutOfRangeRows: number;
  /** Rows the naive-normalizer figures were computed on. */
  naiveRowsEvaluated: number;
}

export function evaluateLogits(
  logits: Float32Array,
  rows: number,
  K: number,
  labels: Int32Array,
  targets: Float32Array,
  family: LossFamily,
  opts: { naiveRows?: number; naiveBudget?: number } = {},
): Omit<EvalPoint, 'step'> {
  return evaluateLogitsDetailed(logits, rows, K, labels, targets, family, opts).point;
}

export function evaluateLogitsDetailed(
  logits: ArrayLike<number>,
  rows: number,
  K: number,
  labels: ArrayLike<number>,
  targets: ArrayLike<number>,
  family: LossFamily,
  opts: { naiveRows?: number; naiveBudget?: number } = {},
): EvalDetail {
  if (!Number.isInteger(K) || K < 2) throw new RangeError(`evaluateLogits: K must be an integer ≥ 2, got ${K}`);
  if (logits.length < rows * K || targets.length < rows * K || labels.length < rows) {
    throw new RangeError(
      `evaluateLogits: ${rows} rows × K = ${K} need ${rows * K} logits and targets and ${rows} labels; got ${logits.length}, ${targets.length}, ${labels.length}`,
    );
  }
  const z = new Float64Array(K);
  const y = new Float64Array(K);
  const ws = new CcWorkspace(K);
  const finite = new Uint8Array(rows);
  const binN = new Float64Array(ECE_BINS);
  const binConf = new Float64Array(ECE_BINS);
  const binAcc = new Float64Array(ECE_BINS);
  let correct = 0;
  let nonFiniteRows = 0;
  let lossSum = 0;
  let lossRows = 0;
  let ccOutOfRangeRows = 0;

  for (let r = 0; r < rows; r++) {
    const base = r * K;
    let ok = true;
    let mx = -Infinity;
    let mn = Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) {
      const v = logits[base + k];
      z[k] = v;
      if (!Number.isFinite(v)) ok = false;
      if (v > mx) {
        mx = v;
        arg = k;
      }
      if (v < mn) mn = v;
    }
    if (!ok) {
      nonFiniteRows++;
      continue;
    }
    finite[r] = 1;
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(z[k] - mx);
    const conf = 1 / se; // the largest softmax probability
    const hit = arg === labels[r] ? 1 : 0;
    correct += hit;
    const b = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(conf * ECE_BINS) - 1));
    binN[b]++;
    binConf[b] += conf;
    binAcc[b] += hit;

    let ys = 0;
    for (let k = 0; k < K; k++) ys += y[k] = targets[base + k];
    for (let k = 0; k < K; k++) y[k] /= ys;
    if (family === 'cc' && mx - mn > MAX_SPREAD) {
      ccOutOfRangeRows++;
      continue;
    }
    const l = family === 'cc' ? ccNll(z, y, ws).loss : crossEntropy(z, y).loss;
    lossSum += l;
    lossRows++;
  }

  const finiteRows = rows - nonFiniteRows;
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) if (binN[b] > 0) ece += Math.abs(binAcc[b] - binConf[b]);
  const byBudget = Math.max(MIN_NAIVE_ROWS, Math.floor((opts.naiveBudget ?? DEFAULT_NAIVE_BUDGET) / (K * K)));
  const naive = naiveFigures(logits, rows, K, finite, Math.min(opts.naiveRows ?? DEFAULT_NAIVE_ROWS, byBudget), ws);
  return {
    point: {
      loss: nonFiniteRows > 0 || lossRows === 0 ? NaN : lossSum / lossRows,
      accuracy: rows > 0 ? correct / rows : NaN,
      ece: finiteRows > 0 ? ece / finiteRows : NaN,
      nearUniform: naive.evaluated > 0 ? naive.nearUniform / naive.evaluated : NaN,
      digitsLostMedian: median(naive.digits),
      digitsLostMax: naive.digits.length ? Math.max(...naive.digits) : NaN,
      naiveFailure: naive.failure || ccOutOfRangeRows > 0,
      nonFinite: nonFiniteRows > 0,
    },
    lossRows,
    nonFiniteRows,
    ccOutOfRangeRows,
    naiveRowsEvaluated: naive.evaluated,
  };
}

function naiveFigures(logits: ArrayLike<number>, rows: number, K: number, finite: Uint8Array, maxRows: number, ws: CcWorkspace) {
  const m = Math.min(rows, Math.max(0, Math.floor(maxRows)));
  const eta = new Float64Array(K);
  const digits: number[] = [];
  let nearUniform = 0;
  let failure = false;
  let evaluated = 0;
  for (let i = 0; i < m; i++) {
    const r = Math.floor((i * rows) / m); // a fixed stride over the rows
    if (!finite[r]) continue;
    const base = r * K;
    let mx = -Infinity;
    let mn = Infinity;
    for (let k = 0; k < K; k++) {
      eta[k] = logits[base + k];
      if (eta[k] > mx) mx = eta[k];
      if (eta[k] < mn) mn = eta[k];
    }
    if (mx - mn > MAX_SPREAD) {
      failure = true; // see the file comment
      continue;
    }
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(eta[k] - mx);
    const lse = mx + Math.log(se);
    for (let k = 0; k < K; k++) eta[k] -= lse;
    evaluated++;
    let d: number;
    if (K > NAIVE_MAX_K) {
      d = analyzeEta(eta, { withMean: false, ws }).naive.float32.digitsLost;
    } else {
      const logExp = logExpUnchecked(eta, K, ws);
      d = predictDigitsLost(eta, logExp, 'float32', naiveTermStats(eta));
      const v = naiveLogC(eta, 'float32');
      if (!Number.isFinite(v) || Math.abs(v + logExp) > NAIVE_FAILURE_NATS) failure = true;
    }
    digits.push(d);
    if (d > NEAR_UNIFORM_DIGITS_LOST) nearUniform++;
  }
  return { digits, nearUniform, failure, evaluated };
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
