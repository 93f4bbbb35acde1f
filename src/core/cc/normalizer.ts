import { checkEta, checkLambda } from './errors';
import { lnGammaInt } from './logGamma';
import { meanFromSeries } from './mean';
import { logExpPartialFraction, preferPartialFraction } from './partialFraction';
import { logSeriesSum } from './series';
import { CcWorkspace } from './workspace';

/**
 * The CC normalizer C(λ) for λ = e^η: C(λ)⁻¹ = ∫_simplex Π λ_k^{x_k} dx = exp[η], the divided
 * difference of exp at the nodes η. All functions here are exact to float64 for any K ≥ 2
 * and any spread up to MAX_SPREAD (see series.ts for the method).
 */

let shared: CcWorkspace | undefined;
function defaultWorkspace(): CcWorkspace {
  return (shared ??= new CcWorkspace());
}

/**
 * log exp[η] = −log C(e^η) for the K numbers of `eta` from `offset`. The input is not
 * checked; see `logExpDivDiff` for the checked version. With `forMean`, it always runs the
 * series and leaves in `ws` what `meanFromSeries` needs; without, small well-separated
 * vectors may take the (error-bounded) partial-fraction route instead.
 */
export function logExpUnchecked(
  eta: ArrayLike<number>,
  K: number,
  ws: CcWorkspace,
  offset = 0,
  forMean = false,
): number {
  let lo = eta[offset];
  let hi = lo;
  for (let k = 1; k < K; k++) {
    const v = eta[offset + k];
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  const rho = hi - lo;
  if (!forMean && preferPartialFraction(K, rho)) {
    const v = logExpPartialFraction(eta, K, offset, hi);
    if (v === v) {
      ws.nTerms = 0; // no series terms: the mean must call with forMean
      return v;
    }
  }
  ws.ensureK(K);
  ws.c = lo;
  ws.rho = rho;
  if (rho > 0) {
    const w = ws.w;
    const inv = 1 / rho;
    for (let k = 0; k < K; k++) {
      const v = eta[offset + k];
      // (hi − lo)·(1/ρ) can round below 1; the method needs the largest node to be exactly 1.
      w[k] = v === hi ? 1 : (v - lo) * inv;
    }
  }
  return lo - lnGammaInt(K) + logSeriesSum(ws, K, rho);
}

/** log exp[η] = −log C(e^η). */
export function logExpDivDiff(eta: ArrayLike<number>, ws = defaultWorkspace()): number {
  checkEta(eta);
  return logExpUnchecked(eta, eta.length, ws);
}

/** log C(λ) for λ = e^η, any real η. */
export function logNormalizer(eta: ArrayLike<number>, ws = defaultWorkspace()): number {
  return -logExpDivDiff(eta, ws);
}

/** log C(λ) for probabilities λ > 0, normalized or not. */
export function logNormalizerFromLambda(lambda: ArrayLike<number>, ws = defaultWorkspace()): number {
  return logNormalizer(lambdaToEta(lambda), ws);
}

/** η = log λ, after checking λ. */
export function lambdaToEta(lambda: ArrayLike<number>): Float64Array {
  checkLambda(lambda);
  const eta = new Float64Array(lambda.length);
  for (let k = 0; k < lambda.length; k++) eta[k] = Math.log(lambda[k]);
  return eta;
}

/**
 * log exp[η] of the K numbers of `eta` from `offset` (unchecked), and the CC mean into
 * `out` from `outOffset`, from the same series.
 */
export function ccMeanInto(
  eta: ArrayLike<number>,
  K: number,
  ws: CcWorkspace,
  offset: number,
  out: Float64Array | number[],
  outOffset: number,
): number {
  const logExp = logExpUnchecked(eta, K, ws, offset, true);
  meanFromSeries(ws, K, out, outOffset);
  return logExp;
}

/** The CC mean μ = E[x] = ∇_η log exp[η] (Σμ = 1), and log C, for λ = e^η. */
export function ccMean(
  eta: ArrayLike<number>,
  out: Float64Array = new Float64Array(eta.length),
  ws = defaultWorkspace(),
): { logC: number; mean: Float64Array } {
  checkEta(eta);
  const K = eta.length;
  const logExp = ccMeanInto(eta, K, ws, 0, out, 0);
  return { logC: -logExp, mean: out };
}
