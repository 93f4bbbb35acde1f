import { checkEta } from './errors';
import { naiveLogC, naiveTermStats, PRECISION, type Precision } from './naive';
import { ccMean, logExpUnchecked } from './normalizer';
import { CcWorkspace } from './workspace';

/**
 * What Loss Lens reports about one λ: the exact log C and mean, what the naive formula gives
 * in float64 and float32, and how many decimal digits it loses.
 *
 * Digits lost. With T_k = e^{η_k}/Π_{i≠k}(η_k − η_i) the naive terms and S = exp[η] their
 * exact sum, the naive sum's rounding error is about u·√K·max|T_k| (each term carries about
 * √K roundings, and the largest terms dominate). In float32 the input itself is rounded,
 * which moves log C by about u·|lse(η)|/2. So the predicted error in log C, in nats, is
 *   ε ≈ u · (√K · max|T_k|/S + 1)                float64
 *   ε ≈ u · (√K · max|T_k|/S + |lse(η)|/2 + 1)   float32
 * and digitsLost = log10(ε/u), between 0 and the precision's digits (15.95 for float64, 7.22
 * for float32). A term or product that the precision cannot represent (ties, overflow) means
 * every digit is lost. The unit tests measure the prediction against the real error of the
 * naive code (rounding errors are random, so a share of single cases land more than a digit
 * away; the tests bound that share and the median).
 *
 * Near-uniform: a λ is near-uniform when a naive float32 implementation, the kind used in
 * training, keeps fewer than 2 correct digits of C (its log C is off by more than about
 * 0.01 nats): predicted float32 digitsLost > 5.22 (NEAR_UNIFORM_DIGITS_LOST). Uniform λ is
 * the limit, with every digit lost; freshly initialized networks sit deep inside.
 */
export const NEAR_UNIFORM_DIGITS_KEPT = 2;
export const NEAR_UNIFORM_DIGITS_LOST = -Math.log10(PRECISION.float32.u) - NEAR_UNIFORM_DIGITS_KEPT;

/** Above this K the O(K²) naive formula is not run; its digits lost are estimated from a sample. */
export const NAIVE_MAX_K = 20_000;
const SAMPLE = 512;

export interface NaiveReport {
  /** log C by the naive formula; null where it was not run (K > NAIVE_MAX_K). */
  logC: number | null;
  /** |naive − exact| in nats (NaN-safe: Infinity where the naive result is not finite). */
  errorNats: number | null;
  digitsLost: number;
}

export interface NormalizerReport {
  K: number;
  logC: number;
  mean?: number[];
  naive: { float64: NaiveReport; float32: NaiveReport; sampled: boolean };
  nearUniform: boolean;
}

export function digitsOf(precision: Precision): number {
  return -Math.log10(PRECISION[precision].u);
}

/** Predicted digits lost by the naive formula in `precision` (see the file comment). */
export function predictDigitsLost(
  eta: ArrayLike<number>,
  logExp: number,
  precision: Precision,
  stats = naiveTermStats(eta),
): number {
  const K = eta.length;
  const D = digitsOf(precision);
  const { lnMax, lnMinNormal } = PRECISION[precision];
  if (!(stats.lnMaxTerm < Infinity) || stats.lnScaledHi > lnMax || stats.lnScaledLo < lnMinNormal) {
    return D;
  }
  let eps = Math.sqrt(K) * Math.exp(stats.lnMaxTerm - logExp) + 1;
  if (precision === 'float32') {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) if (eta[k] > mx) mx = eta[k];
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(eta[k] - mx);
    eps += 0.5 * Math.abs(mx + Math.log(se));
  }
  return Math.min(D, Math.max(0, Math.log10(eps)));
}

/** Indices to examine for K > NAIVE_MAX_K: evenly spaced in sorted order, plus the top ones. */
function sampleIndices(eta: ArrayLike<number>): Int32Array {
  const K = eta.length;
  const order = Array.from({ length: K }, (_, i) => i).sort((a, b) => eta[a] - eta[b]);
  const picked = new Set<number>();
  for (let s = 0; s < SAMPLE; s++) picked.add(order[Math.floor((s * (K - 1)) / (SAMPLE - 1))]);
  for (let s = 1; s <= 64; s++) picked.add(order[K - s]);
  return Int32Array.from(picked);
}

/**
 * The full report for η; `withMean: false` skips μ (large K, or like-for-like timing).
 * Above `naiveMaxK` (default NAIVE_MAX_K) the O(K²) naive formula is not run and its digits
 * lost are estimated from a sample of terms, O(K·576).
 */
export function analyzeEta(
  eta: ArrayLike<number>,
  options: { withMean?: boolean; ws?: CcWorkspace; naiveMaxK?: number } = {},
): NormalizerReport {
  checkEta(eta);
  const K = eta.length;
  const ws = options.ws ?? new CcWorkspace(K);
  let logC: number;
  let mean: number[] | undefined;
  if (options.withMean ?? true) {
    const r = ccMean(eta, new Float64Array(K), ws);
    logC = r.logC;
    mean = Array.from(r.mean);
  } else {
    logC = -logExpUnchecked(eta, K, ws);
  }
  const sampled = K > (options.naiveMaxK ?? NAIVE_MAX_K);
  const stats = naiveTermStats(eta, sampled ? sampleIndices(eta) : undefined);
  const naive = (precision: Precision): NaiveReport => {
    const digitsLost = predictDigitsLost(eta, -logC, precision, stats);
    if (sampled) return { logC: null, errorNats: null, digitsLost };
    const v = naiveLogC(eta, precision);
    return { logC: v, errorNats: Number.isFinite(v) ? Math.abs(v - logC) : Infinity, digitsLost };
  };
  const float64 = naive('float64');
  const float32 = naive('float32');
  return {
    K,
    logC,
    ...(mean ? { mean } : {}),
    naive: { float64, float32, sampled },
    nearUniform: float32.digitsLost > NEAR_UNIFORM_DIGITS_LOST,
  };
}
