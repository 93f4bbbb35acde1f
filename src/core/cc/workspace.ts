/**
 * Scratch memory for the CC normalizer, reused across calls so that batched evaluation
 * allocates nothing per row. One workspace serves vectors of any K; it grows when needed.
 *
 * After `logExpDivDiff` (series path) it also holds what the mean needs: the scaled nodes `w`,
 * the shift `c`, the range `rho` and the series terms `terms[0..nTerms)`, whose sum is `sum`.
 */
export class CcWorkspace {
  /** Scaled nodes w = (η − c)/ρ in [0, 1]. */
  w: Float64Array;
  /** Prefix table of complete homogeneous polynomials, scaled (see series.ts). */
  h: Float64Array;
  /**
   * The table's segments: columns segStart[s] ≤ j < segStart[s+1] share the binary exponent
   * segExp[s] (true h[j] = h[j] · 2^(512·segExp[s])); see series.ts.
   */
  segStart: Int32Array;
  segExp: Int32Array;
  /**
   * Series terms ρ^m a_m / m!, scaled: term n's true value relative to `sum` is
   * terms[n] · 2^(−600·(scaleCount − epoch[n])). Early terms are not rescaled with the later
   * ones, so that they never underflow: the mean needs them (see mean.ts).
   */
  terms: Float64Array;
  epoch: Int32Array;
  scaleCount = 0;
  /** Coefficients of the mean's power series (see mean.ts). */
  coef: Float64Array;
  nTerms = 0;
  sum = 1;
  c = 0;
  rho = 0;

  constructor(K = 16) {
    this.w = new Float64Array(K);
    this.h = new Float64Array(K);
    this.segStart = new Int32Array(K + 2);
    this.segExp = new Int32Array(K + 1);
    this.terms = new Float64Array(64);
    this.epoch = new Int32Array(64);
    this.coef = new Float64Array(64);
  }

  ensureK(K: number): void {
    if (this.w.length < K) {
      this.w = new Float64Array(K);
      this.h = new Float64Array(K);
      this.segStart = new Int32Array(K + 2);
      this.segExp = new Int32Array(K + 1);
    }
  }

  /** Makes room for at least n series terms, keeping the ones already written. */
  ensureTerms(n: number): void {
    if (this.terms.length < n) {
      const grown = new Float64Array(Math.max(n, this.terms.length * 2));
      grown.set(this.terms);
      this.terms = grown;
      const ep = new Int32Array(grown.length);
      ep.set(this.epoch);
      this.epoch = ep;
    }
  }

  ensureCoef(n: number): void {
    if (this.coef.length < n) {
      const grown = new Float64Array(Math.max(n, this.coef.length * 2));
      grown.set(this.coef);
      this.coef = grown;
    }
  }
}
