/**
 * An arbitrary-precision oracle for the CC normalizer, for tests and the reference generator.
 *
 * It evaluates the textbook series directly, in exact binary fixed point with BigInt
 * (PREC bits), from the exact values of the float64 inputs:
 *   exp[η] = e^c Σ_m h_m(d) / (m+K−1)!,  d = η − min η ≥ 0,
 * h_m the complete homogeneous symmetric polynomials (prefix recursion), and the mean from
 * its definition μ_j = exp[η, η_j] / exp[η] with the node η_j appended:
 *   exp[η, η_j] = e^c Σ_m h_m(d, d_j) / (m+K)!,  h_m(d, d_j) = h_m(d) + d_j · h_{m−1}(d, d_j).
 * Every quantity is non-negative. The table is fixed point relative to its largest entry,
 * so the nodes are processed in ascending order: a prefix then never outgrows the entries
 * after it, and an entry that is small relative to the top stays small (with the nodes in
 * input order, a large node early in the list grows from a few significant bits into the
 * dominant entry: the unit tests cross-check the oracle on such a case).
 * This shares no code with src/core (which uses a scaled, fused float64 form and a
 * different route to μ); the naive formula at several hundred digits cross-checks it in the
 * unit tests.
 */
import Decimal from 'decimal.js';

const P = 512; // fraction bits of the fixed-point nodes and table
const PB = BigInt(P);
const ONE = 1n << PB;
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
type Dec = InstanceType<typeof Dec>;

/** A positive big float m·2^e. */
interface BF {
  m: bigint;
  e: number;
}
const PREC = 600;

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}
function norm(x: BF): BF {
  const b = bitLength(x.m);
  if (b > PREC) {
    const s = b - PREC;
    return { m: x.m >> BigInt(s), e: x.e + s };
  }
  return x;
}
function mul(a: BF, b: BF): BF {
  return norm({ m: a.m * b.m, e: a.e + b.e });
}
function add(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (a.e < b.e) [a, b] = [b, a];
  // a has the larger exponent; bring it down to b's.
  const shift = a.e - b.e;
  if (shift > 4 * PREC) return log2(a) > log2(b) ? a : b;
  return norm({ m: (a.m << BigInt(shift)) + b.m, e: b.e });
}
function divInt(a: BF, n: number): BF {
  return norm({ m: (a.m << BigInt(PREC)) / BigInt(n), e: a.e - PREC });
}
function log2(a: BF): number {
  if (a.m === 0n) return -Infinity;
  const b = bitLength(a.m);
  const top = Number(a.m >> BigInt(Math.max(0, b - 60)));
  return Math.log2(top) + Math.max(0, b - 60) + a.e;
}
function toDec(a: BF): Dec {
  return new Dec(a.m.toString()).times(new Dec(2).pow(a.e));
}

/** The exact value of a float64 as (integer mantissa, binary exponent). */
function exactParts(x: number): { m: bigint; e: number } {
  if (!Number.isFinite(x)) throw new Error(`not finite: ${x}`);
  let e = 0;
  while (!Number.isInteger(x)) {
    x *= 2;
    e--;
  }
  return { m: BigInt(x), e };
}
/** x·2^P rounded to an integer (exact when x's binary exponent is at least −P). */
function toFixed(x: number): bigint {
  const { m, e } = exactParts(x);
  const s = e + P;
  return s >= 0 ? m << BigInt(s) : m >> BigInt(-s);
}
/** The exact decimal value of a float64 (to the working precision). */
export function decOf(x: number): Dec {
  const { m, e } = exactParts(x);
  return new Dec(m.toString()).times(new Dec(2).pow(e));
}

const lnGammaCache = new Map<number, Dec>();
// Bernoulli numbers B_2 … B_20 as [numerator, denominator], for Stirling's series.
const BERNOULLI: [number, number][] = [
  [1, 6], [-1, 30], [1, 42], [-1, 30], [5, 66], [-691, 2730], [7, 6], [-3617, 510], [43867, 798], [-174611, 330],
];
/**
 * ln (K−1)! to the working precision: the exact factorial for K < 500, else Stirling's
 * series with ten Bernoulli terms (truncation below 1e-60 for x ≥ 500).
 */
export function lnGammaDec(K: number): Dec {
  let v = lnGammaCache.get(K);
  if (!v) {
    if (K < 500) {
      let f = 1n;
      for (let k = 2n; k < BigInt(K); k++) f *= k;
      v = new Dec(f.toString()).ln();
    } else {
      const x = new Dec(K);
      v = x.minus(0.5).times(x.ln()).minus(x).plus(new Dec(2).times(Dec.acos(-1)).ln().div(2));
      BERNOULLI.forEach(([num, den], i) => {
        const n = 2 * (i + 1);
        v = v!.plus(new Dec(num).div(new Dec(den).times(n).times(n - 1).times(x.pow(n - 1))));
      });
    }
    lnGammaCache.set(K, v);
  }
  return v;
}

export interface BigResult {
  /** log C(e^η) = −log exp[η] */
  logC: Dec;
  /** μ_j for the requested components (all by default). */
  mean?: Map<number, Dec>;
  terms: number;
}

/**
 * log C(e^η) and, if `meanOf` is given, μ_j for those components (pass 'all' for every j).
 */
export function bigLogC(eta: readonly number[], meanOf?: readonly number[] | 'all'): BigResult {
  const K = eta.length;
  let lo = eta[0];
  let hi = eta[0];
  for (const v of eta) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const cFix = toFixed(lo);
  const order = eta.map((_, i) => i).sort((a, b) => eta[a] - eta[b]);
  const d = order.map((i) => toFixed(eta[i]) - cFix);
  const position = new Map(order.map((i, p) => [i, p]));
  const rho = hi - lo;
  const js = meanOf === 'all' ? eta.map((_, j) => j) : (meanOf ?? []);

  const H = d.map(() => ONE);
  const E = js.map(() => ONE); // h_m(d, d_j), same scale as H
  let eh = -P; // true h = H · 2^eh
  let F: BF = { m: 1n << BigInt(PREC), e: -PREC }; // (K−1)!/(m+K−1)!
  let S: BF = { m: 0n, e: 0 };
  const Sj: BF[] = js.map(() => ({ m: 0n, e: 0 }));
  let m = 0;
  for (;;) {
    // term m
    const hTop: BF = { m: H[K - 1], e: eh };
    const t = mul(hTop, F);
    S = add(S, t);
    const Fnext = divInt(F, m + K); // (K−1)!/(m+K)!
    for (let i = 0; i < js.length; i++) Sj[i] = add(Sj[i], mul({ m: E[i], e: eh }, Fnext));
    if (m + 1 > rho) {
      const q = rho / (m + 1);
      if (log2(t) + Math.log2(q / (1 - q)) < log2(S) - 260 || rho === 0) break;
    }
    if (m > 100_000) throw new Error('reference series did not converge');
    // advance to m + 1
    let prev = 0n;
    for (let j = 0; j < K; j++) {
      prev = prev + ((d[j] * H[j]) >> PB);
      H[j] = prev;
    }
    const top = H[K - 1];
    for (let i = 0; i < js.length; i++) E[i] = top + ((d[position.get(js[i])!] * E[i]) >> PB);
    const b = bitLength(top);
    if (b > P + 64) {
      const s = BigInt(b - P - 1);
      for (let j = 0; j < K; j++) H[j] >>= s;
      for (let i = 0; i < js.length; i++) E[i] >>= s;
      eh += b - P - 1;
    }
    F = Fnext;
    m++;
  }
  const lnS = toDec(S).ln();
  const logC = lnGammaDec(K).minus(decOf(lo)).minus(lnS);
  let mean: Map<number, Dec> | undefined;
  if (js.length) {
    mean = new Map();
    const s = toDec(S);
    js.forEach((j, i) => mean!.set(j, toDec(Sj[i]).div(s)));
  }
  return { logC, mean, terms: m + 1 };
}

/**
 * The naive formula Σ_k e^{η_k} / Π_{i≠k}(η_k − η_i) at `digits` decimal digits, for
 * distinct nodes: an independent check of the oracle (slow; small K only).
 */
export function bigNaiveLogC(eta: readonly number[], digits = 400): Dec {
  const D = Decimal.clone({ precision: digits });
  const x = eta.map((v) => {
    const { m, e } = exactParts(v);
    return new D(m.toString()).times(new D(2).pow(e));
  });
  let sum = new D(0);
  for (let k = 0; k < x.length; k++) {
    let prod = new D(1);
    for (let i = 0; i < x.length; i++) if (i !== k) prod = prod.times(x[k].minus(x[i]));
    sum = sum.plus(x[k].exp().div(prod));
  }
  return new Dec(sum.ln().neg().toString());
}
