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

/**
 * log exp[η] and the CC mean μ = ∇ log exp[η] by partial fractions, for the training loss's
 * gradient where the series would be long (small K, large spread: what CC training drives
 * logits to). Returns NaN, leaving `out` unspecified, where the error bound does not hold.
 *
 * With t_k = e^{η_k − hi}/Π_{i≠k}(η_k − η_i) and S = Σ t_k, the node η_j repeated gives
 *   exp[η, η_j]·e^{−hi} = Σ_{k≠j} t_k/(η_k − η_j) + t_j·(1 − Σ_{i≠j} 1/(η_j − η_i)),
 * and μ_j is that over S. Error bound: each product carries at most 2K + 6 roundings and the
 * sums 2K more, so the numerator's error is below (5K + 10)·u·A_j with A_j the sum of the
 * absolute values of its terms; with S's own bound (3K + 4)·u·Σ|t|/S, μ_j is accepted only
 * when its absolute error is provably below 3·10⁻¹⁴ (Σμ = 1, so that is relative to the
 * gradient's scale), and log exp[η] on the same terms as `logExpPartialFraction`.
 */
export function logExpMeanPartialFraction(
  eta: ArrayLike<number>,
  K: number,
  offset: number,
  hi: number,
  t: Float64Array,
  out: Float64Array,
  outOffset: number,
): number {
  let sum = 0;
  let abs = 0;
  for (let k = 0; k < K; k++) {
    const ek = eta[offset + k];
    let p = 1;
    for (let i = 0; i < K; i++) if (i !== k) p *= ek - eta[offset + i];
    const v = Math.exp(ek - hi) / p;
    t[k] = v;
    sum += v;
    abs += Math.abs(v);
  }
  if (!(sum > 0) || !Number.isFinite(abs)) return NaN;
  const logExp = hi + Math.log(sum);
  const sRel = (3 * K + 4) * U * (abs / sum);
  if (!(sRel <= 3e-14 * Math.max(1, Math.abs(logExp)))) return NaN;
  const inv = 1 / sum;
  for (let j = 0; j < K; j++) {
    const ej = eta[offset + j];
    let num = 0;
    let a = 0;
    let s = 0;
    let sAbs = 0;
    for (let k = 0; k < K; k++) {
      if (k === j) continue;
      const r = 1 / (eta[offset + k] - ej);
      const v = t[k] * r;
      num += v;
      a += Math.abs(v);
      s -= r; // 1/(η_j − η_k) = −r
      sAbs += Math.abs(r);
    }
    const tj = t[j] * (1 - s);
    num += tj;
    a += Math.abs(t[j]) * (1 + sAbs);
    const mu = num * inv;
    const err = (5 * K + 10) * U * a * inv + Math.abs(mu) * sRel + U;
    if (!(err <= 3e-14) || !(mu >= 0)) return NaN;
    out[outOffset + j] = mu;
  }
  return logExp;
}
