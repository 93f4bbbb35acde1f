/**
 * log exp[η] by the partial-fraction formula Σ_k e^{η_k − hi} / Π_{i≠k}(η_k − η_i), used
 * only where it is provably accurate; returns NaN where it is not (the caller then uses the
 * series).
 *
 * Error bound: each term carries at most 2K + 2 roundings (K − 1 differences, K − 1
 * products, an exp within one ulp, a division), and the sum K − 1 more, so the computed
 * sum Ŝ satisfies |Ŝ − S| ≤ (3K + 4)·u·Σ|t_k|. The result is accepted only when that bound
 * is below 3·10⁻¹⁴·max(1, |log C|): a third of the contract's 10⁻¹³·max(1, |log C|).
 * Ties, overflow and underflow make the sum non-finite or the bound fail, so they fall
 * through too. Cost O(K²) without a single branch in the inner loops: for small K with
 * well-separated nodes this beats the series, whose length grows with the spread.
 */
const U = 2 ** -53;

export function logExpPartialFraction(eta: ArrayLike<number>, K: number, offset: number, hi: number): number {
  let sum = 0;
  let abs = 0;
  for (let k = 0; k < K; k++) {
    const ek = eta[offset + k];
    let p = 1;
    for (let i = 0; i < k; i++) p *= ek - eta[offset + i];
    for (let i = k + 1; i < K; i++) p *= ek - eta[offset + i];
    const t = Math.exp(ek - hi) / p;
    sum += t;
    abs += Math.abs(t);
  }
  if (!(sum > 0) || !Number.isFinite(abs)) return NaN;
  const logExp = hi + Math.log(sum);
  const bound = (3 * K + 4) * U * (abs / sum);
  return bound <= 3e-14 * Math.max(1, Math.abs(logExp)) ? logExp : NaN;
}

/**
 * Whether to try the partial fractions first: small K, nodes far apart on average (mean gap
 * ≥ 2.5, where the bound above usually holds), and a series that would be longer than the
 * O(K²) product loop.
 */
export function preferPartialFraction(K: number, rho: number): boolean {
  return K <= 32 && rho >= 2.5 * (K - 1) && rho + 3 * Math.sqrt(rho) > 3 * K;
}
