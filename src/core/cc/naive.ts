/**
 * The naive CC normalizer, as the authors' reference code computes it: the partial-fraction
 * form of the divided difference,
 *   exp[η] = Σ_k e^{η_k} / Π_{i≠k} (η_k − η_i),
 * with λ = softmax(η) in the numerators and the nodes divided by the standard deviation of η
 * ("rescaled by the spread"; this does not remove the cancellation). It is here to be
 * measured against, never to be trusted: with close nodes its terms have both signs and
 * magnitudes that dwarf the result, and exactly uniform λ divides by zero.
 *
 * `round` is the identity for float64 and Math.fround for float32, applied after every
 * operation, which emulates float32 arithmetic (exp and log rounded from float64 values).
 */
export type Precision = 'float64' | 'float32';
type Round = (x: number) => number;
const id: Round = (x) => x;
export const roundOf = (p: Precision): Round => (p === 'float32' ? Math.fround : id);

/** Unit roundoff and the largest finite magnitude (as a natural log) of each precision. */
export const PRECISION = {
  float64: { u: 2 ** -53, lnMax: Math.log(Number.MAX_VALUE), lnMinNormal: Math.log(2 ** -1022) },
  float32: { u: 2 ** -24, lnMax: Math.log(3.4028234663852886e38), lnMinNormal: Math.log(2 ** -126) },
} as const;

/** Scratch (scaled nodes, softmax weights), so benchmarks measure arithmetic, not allocation. */
let nodes = new Float64Array(16);
let weights = new Float64Array(16);

/**
 * log C(e^η) by the naive formula. Returns NaN or ±Infinity where the formula breaks down
 * (a non-positive sum, a zero product, an overflow); never throws on finite input.
 */
export function naiveLogC(eta: ArrayLike<number>, precision: Precision = 'float64'): number {
  const f = roundOf(precision);
  const K = eta.length;
  if (nodes.length < K) {
    nodes = new Float64Array(K);
    weights = new Float64Array(K);
  }
  const s = nodes;
  const lam = weights;

  let mx = -Infinity;
  let mean = 0;
  for (let k = 0; k < K; k++) {
    const v = f(eta[k]);
    s[k] = v;
    if (v > mx) mx = v;
    mean = f(mean + v);
  }
  mean = f(mean / K);
  let se = 0;
  let ss = 0;
  for (let k = 0; k < K; k++) {
    se = f(se + f(Math.exp(f(s[k] - mx))));
    const d = f(s[k] - mean);
    ss = f(ss + f(d * d));
  }
  const lse = f(mx + f(Math.log(se)));
  const sd = f(Math.sqrt(f(ss / K)));
  for (let k = 0; k < K; k++) {
    lam[k] = f(Math.exp(f(s[k] - lse)));
    s[k] = f(s[k] / sd);
  }

  let sum = 0;
  if (precision === 'float64') {
    for (let k = 0; k < K; k++) {
      const sk = s[k];
      let prod = 1;
      for (let i = 0; i < k; i++) prod *= sk - s[i];
      for (let i = k + 1; i < K; i++) prod *= sk - s[i];
      sum += lam[k] / prod;
    }
  } else {
    for (let k = 0; k < K; k++) {
      const sk = s[k];
      let prod = 1;
      for (let i = 0; i < K; i++) if (i !== k) prod = f(prod * f(sk - s[i]));
      sum = f(sum + f(lam[k] / prod));
    }
  }
  const logCNormalized = f(f(-f(Math.log(sum))) + f((K - 1) * f(Math.log(sd))));
  return f(logCNormalized - lse);
}

export interface NaiveTermStats {
  /** max_k ln|e^{η_k} / Π_{i≠k}(η_k − η_i)|: the largest term of the unscaled formula. */
  lnMaxTerm: number;
  /** The largest and smallest ln|term| and ln|product| in the scaled form naiveLogC computes. */
  lnScaledHi: number;
  lnScaledLo: number;
  /** How many k were examined (all of them, or a sample for very large K). */
  examined: number;
}

/**
 * The sizes of the naive formula's terms, in log space so nothing overflows. O(K·|ks|).
 * `ks` lists the terms to examine (default: all).
 */
export function naiveTermStats(eta: ArrayLike<number>, ks?: ArrayLike<number>): NaiveTermStats {
  const K = eta.length;
  let mx = -Infinity;
  let mean = 0;
  for (let k = 0; k < K; k++) {
    if (eta[k] > mx) mx = eta[k];
    mean += eta[k];
  }
  mean /= K;
  let se = 0;
  let ss = 0;
  for (let k = 0; k < K; k++) {
    se += Math.exp(eta[k] - mx);
    ss += (eta[k] - mean) ** 2;
  }
  const lse = mx + Math.log(se);
  const lnSd = 0.5 * Math.log(ss / K);

  const BIG = 2 ** 500;
  const SMALL = 2 ** -500;
  const n = ks ? ks.length : K;
  let lnMaxTerm = -Infinity;
  let hi = -Infinity;
  let lo = Infinity;
  for (let idx = 0; idx < n; idx++) {
    const k = ks ? ks[idx] : idx;
    const ek = eta[k];
    let prod = 1;
    let lnProd = 0;
    for (let i = 0; i < K; i++) {
      if (i === k) continue;
      prod *= Math.abs(ek - eta[i]);
      if (prod > BIG || prod < SMALL) {
        lnProd += Math.log(prod);
        prod = 1;
      }
    }
    lnProd += Math.log(prod);
    const lnTerm = ek - lnProd;
    if (lnTerm > lnMaxTerm) lnMaxTerm = lnTerm;
    const lnScaledProd = lnProd - (K - 1) * lnSd;
    const lnScaledTerm = ek - lse - lnScaledProd;
    hi = Math.max(hi, lnScaledProd, lnScaledTerm);
    lo = Math.min(lo, lnScaledProd, lnScaledTerm);
  }
  return { lnMaxTerm, lnScaledHi: hi, lnScaledLo: lo, examined: n };
}
