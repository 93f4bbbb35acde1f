import type { CcWorkspace } from './workspace';

/**
 * The CC mean μ = E[x] = ∇_η log exp[η], from the series terms that `logSeriesSum` left in
 * the workspace (call it first, for the same vector).
 *
 * Method: μ_j = exp[η, η_j] / exp[η] (node η_j repeated). Repeating a node adds one node
 * to the complete homogeneous polynomials, h_m(w, y) = Σ_i y^i h_{m−i}(w), which gives
 *   μ_j = Σ_i g_i · w_j^i,   g_i = Σ_n p_n · ρ^i / ((n+K)(n+K+1)…(n+K+i)),
 * with p_n = t_n / Σ t the normalized series terms. One power series in w_j serves every
 * component, and every term is non-negative, so each μ_j has a small relative error however
 * close the nodes are. Cost: O(T·I) for the g_i (T series terms, I power-series terms) and
 * O(K·I) for the Horner evaluations. The result is divided by its sum, so Σμ = 1 to rounding.
 *
 * Example: η = (1, 0) gives μ = (1/(e−1), 1 − 1/(e−1)) ≈ (0.5819767068693264, 0.4180232931306736).
 */
const STOP = 2 ** -60;
const TWO_P300 = 2 ** 300;
const TWO_M600 = 2 ** -600;

export function meanFromSeries(
  ws: CcWorkspace,
  K: number,
  out: Float64Array | number[],
  offset = 0,
): void {
  const rho = ws.rho;
  if (rho === 0) {
    for (let j = 0; j < K; j++) out[offset + j] = 1 / K;
    return;
  }
  const terms = ws.terms;
  const T = ws.nTerms;
  if (T === 0) throw new Error('meanFromSeries: the workspace holds no series (call logExpUnchecked with forMean)');
  const invSum = 1 / ws.sum;

  // g_0 first: it bounds every μ_j from below and sets the truncation level.
  let g0 = 0;
  for (let n = 0; n < T; n++) if (ws.epoch[n] === ws.scaleCount) g0 += (terms[n] * invSum) / (n + K);
  const floor = STOP * g0;

  let I = 1;
  ws.ensureCoef(16);
  ws.coef.fill(0, 0, ws.coef.length);
  for (let n = 0; n < T; n++) {
    let q = (terms[n] * invSum) / (n + K);
    if (q === 0) continue;
    // The term's true value is q·2^(−600·d): early terms of a long series sit far below the
    // sum, but their power series in w grows by up to e^ρ, so they are carried, not dropped,
    // and folded into range as they grow. While d > 0 the value is below 2^-300: negligible.
    let d = ws.scaleCount - ws.epoch[n];
    while (d > 0 && q >= TWO_P300) {
      q *= TWO_M600;
      d--;
    }
    let i = 0;
    for (;;) {
      if (i >= ws.coef.length) {
        const before = ws.coef.length;
        ws.ensureCoef(i + 1);
        ws.coef.fill(0, before, ws.coef.length);
      }
      if (d === 0) ws.coef[i] += q;
      i++;
      const r = rho / (n + K + i);
      q *= r;
      if (d > 0 && q >= TWO_P300) {
        q *= TWO_M600;
        d--;
      }
      if (r < 1 && (d > 0 || q <= floor * (1 - r))) break;
      if (q === 0) break;
    }
    if (i > I) I = i;
  }

  const g = ws.coef;
  const w = ws.w;
  let total = 0;
  for (let j = 0; j < K; j++) {
    const x = w[j];
    let acc = g[I - 1];
    for (let i = I - 2; i >= 0; i--) acc = acc * x + g[i];
    out[offset + j] = acc;
    total += acc;
  }
  const inv = 1 / total;
  for (let j = 0; j < K; j++) out[offset + j] *= inv;
}
