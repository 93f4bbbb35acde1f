import { CcInputError } from './errors';
import type { CcWorkspace } from './workspace';

/**
 * log Σ_{m≥0} ρ^m a_m / m! for nodes w ∈ [0, 1]^K with max w = 1, where
 * a_m = E_{t ~ Unif(simplex)}[(w·t)^m]. With η = c + ρ·w this sum S gives
 *   exp[η] = e^c / (K − 1)! · S,   log C(e^η) = lnΓ(K) − c − log S.
 *
 * Method (no cancellation anywhere; every quantity is a sum of non-negative numbers):
 *   h_m(w_1..w_j), the complete homogeneous symmetric polynomial of degree m in the first j
 *   nodes, obeys h_m^(j) = h_m^(j−1) + w_j · h_{m−1}^(j), a prefix sum over j. Its last entry
 *   gives a_m = h_m / C(m+K−1, m), so the term is t_m = ρ^m (K−1)!/(m+K−1)! · h_m.
 *   Four degrees are advanced in one pass over the nodes: the four running sums are
 *   independent chains, which keeps the floating-point adder busy instead of waiting on one
 *   chain (the naive formula's product loop waits on its multiplier the same way).
 *   The table is rescaled by 2^-512 (exact) when its largest entry passes 2^512, and the
 *   running sum by 2^-600 when it passes 2^600, so nothing overflows for any spread ρ.
 *   Stopping: a_{m+j} ≤ a_m because w·t ≤ 1, so once m + 1 > ρ the tail after term m is at
 *   most t_m · q/(1 − q) with q = ρ/(m + 1); we stop when that is below 2^-56 of the sum.
 *
 * Leaves the terms (scaled) in ws.terms and their sum in ws.sum for the mean.
 *
 * Example: K = 2, w = (0, 1), ρ = 1: S = Σ 1/(m+1)! = e − 1, log S = 0.54132485461291810898.
 */
export const MAX_SPREAD = 1e6;

const TWO_M600 = 2 ** -600;
const TWO_P600 = 2 ** 600;
const TWO_M512 = 2 ** -512;
const TWO_P512 = 2 ** 512;
const STOP = 2 ** -56;

export function logSeriesSum(ws: CcWorkspace, K: number, rho: number): number {
  if (rho === 0) {
    ws.nTerms = 1;
    ws.terms[0] = 1;
    ws.epoch[0] = 0;
    ws.scaleCount = 0;
    ws.sum = 1;
    return 0;
  }
  if (rho > MAX_SPREAD) {
    throw new CcInputError(
      `the spread max(η) − min(η) = ${rho} exceeds ${MAX_SPREAD}; logits this far apart are outside what Loss Lens evaluates`,
    );
  }
  const w = ws.w;
  const h = ws.h;
  for (let j = 0; j < K; j++) h[j] = 1;
  // Room for the expected number of terms (about ρ + a few √ρ), grown below if needed.
  ws.ensureTerms(Math.ceil(rho + 12 * Math.sqrt(rho)) + 64);
  let terms = ws.terms;
  let epoch = ws.epoch;
  terms[0] = 1;
  epoch[0] = 0;
  let scaleCount = 0;

  let one = 1; // the m = 0 term, scaled like the others
  let tail = 0; // Σ_{m≥1} t_m
  let logScale = 0; // true values = scaled values · 2^logScale
  let G = 1; // t_m = G · (stored h_m)
  let m = 0;
  let n = 1;

  for (;;) {
    // One pass grows the table by at most K⁴ (< 2^80); rescaling only past 2^512 keeps
    // every stored value finite and leaves most passes free of the extra multiply.
    if (h[K - 1] > TWO_P512) {
      for (let j = 0; j < K; j++) h[j] *= TWO_M512;
      G *= TWO_P512;
    }
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    for (let j = 0; j < K; j++) {
      const wj = w[j];
      a1 += wj * h[j];
      a2 += wj * a1;
      a3 += wj * a2;
      a4 += wj * a3;
      h[j] = a4;
    }

    G *= rho / (m + K);
    const t1 = G * a1;
    G *= rho / (m + K + 1);
    const t2 = G * a2;
    G *= rho / (m + K + 2);
    const t3 = G * a3;
    G *= rho / (m + K + 3);
    const t4 = G * a4;
    m += 4;

    if (n + 4 > terms.length) {
      ws.ensureTerms(n + 4);
      terms = ws.terms;
      epoch = ws.epoch;
    }
    terms[n] = t1;
    terms[n + 1] = t2;
    terms[n + 2] = t3;
    terms[n + 3] = t4;
    epoch[n] = epoch[n + 1] = epoch[n + 2] = epoch[n + 3] = scaleCount;
    n += 4;
    tail += t1 + t2 + t3 + t4;

    const total = one + tail;
    if (m + 1 > rho) {
      const q = rho / (m + 1);
      if (t4 * q <= STOP * total * (1 - q)) break;
    }
    if (total > TWO_P600) {
      one *= TWO_M600;
      tail *= TWO_M600;
      G *= TWO_M600;
      scaleCount++; // the stored terms keep their scale: see CcWorkspace.epoch
      logScale += 600;
    }
  }

  ws.nTerms = n;
  ws.scaleCount = scaleCount;
  ws.sum = one + tail;
  return logScale === 0 ? Math.log1p(tail) : Math.log(one + tail) + logScale * Math.LN2;
}
