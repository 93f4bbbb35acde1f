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
 *   Each column j of the table has its own binary exponent (stored value · 2^(512·ex[j])),
 *   and a column is rescaled by 2^∓512 (exact) when it leaves [2^-256, 2^256]. One exponent
 *   for the whole table is not enough: at large K and spread a low column can sit more than
 *   2^-1074 below the top (h_m of a few variables against h_m of all, a ratio like
 *   C(m+j, m)/C(m+K, m)) and would underflow to 0, yet the share of later degrees that falls
 *   in those first j variables is about j/K, so the sum would lose most of its mass (at K =
 *   1000, nodes (0, ρ, …, ρ), ρ = 5000, it lost 13 nats). With per-column exponents the only
 *   thing dropped is an addition below 2^-1074 of the column it is added to, and that stays
 *   negligible: every later value of the column is at least w_j times its current one, and
 *   the dropped part would have been multiplied by the same factors.
 *   The running sum is rescaled by 2^-600 when it passes 2^600, so nothing overflows for any
 *   spread ρ.
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
const TWO_P512 = 2 ** 512;
const TWO_M512 = 2 ** -512;
const STEP = [2 ** -1024, 2 ** -512, 1, 2 ** 512];

/** 2^(512·d) for d ≤ 1, exactly; 0 below 2^-1536 (d < −2), which only ever multiplies sums
 * negligible next to what they are added to. */
function scale512(d: number): number {
  return d < -2 ? 0 : STEP[d + 2];
}
const STOP = 2 ** -56;

const TWO_M448 = 2 ** -448;
const TWO_M960 = 2 ** -960;

/** The first j in [j0, j1) with h[j] ≥ v (j1 if none), for h non-decreasing there. */
function firstAtLeast(h: Float64Array, j0: number, j1: number, v: number): number {
  let lo = j0;
  let hi = j1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h[mid] >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Splits segment s at column p: [start, p) keeps its exponent, [p, end) gets `upper`. */
function splitSegment(ws: CcWorkspace, nSeg: number, s: number, p: number, upper: number): void {
  const { segStart, segExp } = ws;
  for (let t = nSeg; t > s; t--) {
    segStart[t + 1] = segStart[t];
    segExp[t] = segExp[t - 1];
  }
  segStart[s + 1] = p;
  segExp[s + 1] = upper;
}

/** Joins neighbouring segments of equal exponent; returns the new count. */
function mergeSegments(ws: CcWorkspace, nSeg: number): number {
  const { segStart, segExp } = ws;
  let n = 1;
  for (let s = 1; s < nSeg; s++) {
    if (segExp[s] === segExp[n - 1]) continue;
    segStart[n] = segStart[s];
    segExp[n] = segExp[s];
    n++;
  }
  segStart[n] = segStart[nSeg];
  return n;
}

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
  const maxTerms = Math.ceil(rho + 64 * Math.sqrt(rho)) + 4096;

  // The table's columns in runs (segments) of one binary exponent each: true h[j] = stored
  // h[j] · 2^(512·segExp[s]) for segStart[s] ≤ j < segStart[s+1]. The pass is the plain
  // fused loop within a segment, with the running sums converted between segments.
  const segStart = ws.segStart;
  const segExp = ws.segExp;
  segStart[0] = 0;
  segStart[1] = K;
  segExp[0] = 0;
  let nSeg = 1;
  // Columns before the first positive node stay 0 after the first pass.
  let jNZ = 0;
  while (jNZ < K && !(w[jNZ] > 0)) jNZ++;

  for (;;) {
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let eAcc = segExp[0]; // the exponent of the running sums
    for (let s = 0; s < nSeg; s++) {
      const e = segExp[s];
      if (e !== eAcc) {
        // Bring the running sums (the last column's next degrees) to this segment's scale.
        // Column j−1 ≤ column j in true value at every degree and a degree raises a column
        // at most K-fold, so the sums are at most K⁴ times column j: with the window below,
        // the step is up by at most one (the loop is a safeguard). A step down past 2^-1024
        // makes the sums 0: they are then below 2^-1074 of the column they are added to.
        for (let d = eAcc - e; d > 1; d--) {
          a1 *= TWO_P512;
          a2 *= TWO_P512;
          a3 *= TWO_P512;
          a4 *= TWO_P512;
          eAcc--;
        }
        const f = scale512(eAcc - e);
        a1 *= f;
        a2 *= f;
        a3 *= f;
        a4 *= f;
        eAcc = e;
      }
      const j1 = segStart[s + 1];
      for (let j = segStart[s]; j < j1; j++) {
        const wj = w[j];
        a1 += wj * h[j];
        a2 += wj * a1;
        a3 += wj * a2;
        a4 += wj * a3;
        h[j] = a4;
      }
    }

    // Keep each segment's stored values within [2^-960, 2^512]. Within a segment they rise
    // with j (prefix sums of non-negative numbers), so its last column is its largest and its
    // first non-zero one its smallest, and a cut between small and large is a binary search.
    // A pass raises a column at most K⁴-fold, so nothing overflows between two checks; what
    // falls below the window within one pass has fallen by 2^-400 or more from the column's
    // own value a pass before, which makes it negligible (as above).
    const topBefore = segExp[nSeg - 1];
    for (let s = nSeg - 1; s >= 0; s--) {
      const j0 = Math.max(segStart[s], jNZ);
      const j1 = segStart[s + 1];
      if (j0 >= j1) continue;
      if (h[j1 - 1] > TWO_P512) {
        // Down by 2^-512 from the first column at or above 2^-448; those below keep their scale.
        const p = firstAtLeast(h, j0, j1, TWO_M448);
        for (let j = p; j < j1; j++) h[j] *= TWO_M512;
        if (p > segStart[s]) {
          splitSegment(ws, nSeg, s, p, segExp[s] + 1);
          nSeg++;
        } else segExp[s]++;
      } else if (h[j0] < TWO_M960) {
        // Up by 2^512 up to the first column at or above 2^-448; those keep their scale.
        const p = firstAtLeast(h, j0, j1, TWO_M448);
        for (let j = j0; j < p; j++) h[j] *= TWO_P512;
        if (p < j1) {
          splitSegment(ws, nSeg, s, p, segExp[s]);
          nSeg++;
        }
        segExp[s]--; // (with the leading zero columns, if any: their scale is immaterial)
      }
    }
    nSeg = mergeSegments(ws, nSeg);
    // t_m = G · (top column), so G carries the top column's exponent. The terms of this pass
    // come from a1..a4 before the check, so G changes after they are taken.
    const topShift = segExp[nSeg - 1] - topBefore;

    G *= rho / (m + K);
    const t1 = G * a1;
    G *= rho / (m + K + 1);
    const t2 = G * a2;
    G *= rho / (m + K + 2);
    const t3 = G * a3;
    G *= rho / (m + K + 3);
    const t4 = G * a4;
    if (topShift !== 0) G *= scale512(topShift);
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
      // The tail bound stops it by ρ + 8√ρ + a few dozen terms; a NaN would never stop it.
      if (!(m <= maxTerms)) throw new Error(`the CC series did not converge (ρ = ${rho}, ${m} terms, term ${t4}, sum ${total})`);
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
