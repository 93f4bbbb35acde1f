/**
 * An arbitrary-precision oracle for the CC normalizer, for tests and the reference generator.
 *
 * It evaluates the textbook series directly with BigInt, from the exact values of the float64
 * inputs (rounded to 2^-512 only below that):
 *   exp[η] = e^c Σ_m h_m(d) / (m+K−1)!,  d = η − min η ≥ 0,
 * h_m the complete homogeneous symmetric polynomials (prefix recursion
 * h_m^(j) = h_m^(j−1) + d_j · h_{m−1}^(j)), and the mean from its definition
 * μ_j = exp[η, η_j] / exp[η] with the node η_j appended:
 *   exp[η, η_j] = e^c Σ_m h_m(d, d_j) / (m+K)!,  h_m(d, d_j) = h_m(d) + d_j · h_{m−1}(d, d_j).
 * Every quantity is non-negative, so no step cancels. Each table entry h_m^(j) (and each
 * h_m(d, d_j)) is a binary float of its own, a mantissa of about 600 bits with its own
 * exponent, so every entry keeps ~600 bits of relative precision however far it falls below
 * the largest one. That matters: the share of h_{m'} that comes from the first j nodes is
 * about m'·j/K when the nodes are alike, so a low prefix that is negligible next to the top at
 * degree m can carry much of the top at later degrees. A table kept in fixed point relative
 * to its top entry (as this oracle once was) flushes such entries to zero and loses mass at
 * large K and spread: at K = 1000, η = (0, 5000 ×999) it gave log exp[η] = −1261.06 instead
 * of −907.013 (the unit tests check such two-value vectors against their closed form). The
 * nodes are still processed in ascending order, but any order would do now: every step adds
 * non-negative numbers, so each entry's error stays relative to that entry.
 * This shares no code with src/core (which uses a scaled, fused float64 form and a
 * different route to μ); the naive formula at several hundred digits, and closed forms,
 * cross-check it in the unit tests.
 */
import Decimal from 'decimal.js';

const P = 512; // fraction bits of the fixed-point nodes
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
type Dec = InstanceType<typeof Dec>;

/** A positive big float m·2^e. */
interface BF {
  m: bigint;
  e: number;
}
const PREC = 600;
// The table's mantissas stay in [LO, HI) = [2^(L−1), 2^U): L − 3 bits of relative precision
// per step, for every entry.
const L = PREC;
const U = PREC + 32;
const LO = 1n << BigInt(L - 1);
const HI = 1n << BigInt(U);

const SHIFTS: bigint[] = [];
/** BigInt(s), cached for the shifts the table makes. */
function shiftOf(s: number): bigint {
  if (s < 4096) return (SHIFTS[s] ??= BigInt(s));
  return BigInt(s);
}
/** The number of bits of x ≥ 0. */
function bitLength(x: bigint): number {
  if (x === 0n) return 0;
  const s = x.toString(16);
  return 4 * (s.length - 1) + (32 - Math.clz32(parseInt(s[0], 16)));
}
/** The number of trailing zero bits of x > 0. */
function trailingZeros(x: bigint): number {
  let n = 0;
  while ((x & 0xffffffffn) === 0n) {
    x >>= 32n;
    n += 32;
  }
  return n + 31 - Math.clz32(Number(x & 0xffffffffn) & -Number(x & 0xffffffffn));
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
 * One step of the table, t ← p + d·h, in per-entry floating point. p, h and the result are
 * mantissas in [2^(L−1), 2^U) (or 0) with their own exponents; d = dm·2^de with dm of
 * exactly db bits. Both operands are cut to the exponent at which the larger of their upper
 * bounds has U bits, so the larger operand keeps at least L − 2 bits: every result has a
 * relative error below 2^(3−L), however small it is next to the other entries. The
 * multiplication is skipped when the cut would discard the whole product.
 */
function stepInto(
  pm: bigint,
  pe: number,
  hm: bigint,
  he: number,
  dm: bigint,
  de: number,
  db: number,
  out: { m: bigint; e: number },
): void {
  if (hm === 0n || dm === 0n) {
    out.m = pm;
    out.e = pe;
    return;
  }
  const qe = he + de; // the product's exponent; it is below 2^(qe + U + db)
  const qt = qe + db;
  let x: bigint;
  let te: number;
  if (pm !== 0n && pe >= qt) {
    te = pe;
    const s = pe - qe;
    x = s >= U + db ? pm : pm + ((dm * hm) >> shiftOf(s));
  } else {
    te = qt;
    x = (dm * hm) >> shiftOf(db);
    if (pm !== 0n) x += pm >> shiftOf(qt - pe);
  }
  if (x >= HI) {
    x >>= 1n;
    te++;
  } else if (x < LO) {
    x <<= 1n;
    te--;
  }
  out.m = x;
  out.e = te;
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
  // d_j = dm_j · 2^de_j exactly, dm_j odd (or 0) of db_j bits: short multiplications.
  const dm: bigint[] = [];
  const de: number[] = [];
  const db: number[] = [];
  for (const i of order) {
    let v = toFixed(eta[i]) - cFix;
    let e = -P;
    if (v !== 0n) {
      const tz = trailingZeros(v);
      v >>= BigInt(tz);
      e += tz;
    }
    dm.push(v);
    de.push(e);
    db.push(bitLength(v));
  }
  const position = new Map(order.map((i, p) => [i, p]));
  const rho = hi - lo;
  const js = meanOf === 'all' ? eta.map((_, j) => j) : (meanOf ?? []);
  const jp = js.map((j) => position.get(j)!);

  // h_m(d_1 … d_j) = Hm[j] · 2^He[j], each entry with its own exponent.
  const Hm: bigint[] = new Array<bigint>(K).fill(LO);
  const He: number[] = new Array<number>(K).fill(1 - L);
  // h_m(d, d_j) for the mean: Em[i] · 2^Ee[i].
  const Em: bigint[] = js.map(() => LO);
  const Ee: number[] = js.map(() => 1 - L);
  const t1 = { m: 0n, e: 0 };
  let F: BF = { m: 1n << BigInt(PREC), e: -PREC }; // (K−1)!/(m+K−1)!
  let S: BF = { m: 0n, e: 0 };
  const Sj: BF[] = js.map(() => ({ m: 0n, e: 0 }));
  let m = 0;
  for (;;) {
    // term m
    const t = mul({ m: Hm[K - 1], e: He[K - 1] }, F);
    S = add(S, t);
    const Fnext = divInt(F, m + K); // (K−1)!/(m+K)!
    for (let i = 0; i < js.length; i++) Sj[i] = add(Sj[i], mul({ m: Em[i], e: Ee[i] }, Fnext));
    if (m + 1 > rho) {
      const q = rho / (m + 1);
      if (log2(t) + Math.log2(q / (1 - q)) < log2(S) - 260 || rho === 0) break;
    }
    if (m > 100_000) throw new Error('reference series did not converge');
    // advance to m + 1: h_{m+1}^(j) = h_{m+1}^(j−1) + d_j · h_m^(j), in place over j.
    let pm = 0n;
    let pe = 0;
    for (let j = 0; j < K; j++) {
      stepInto(pm, pe, Hm[j], He[j], dm[j], de[j], db[j], t1);
      pm = Hm[j] = t1.m;
      pe = He[j] = t1.e;
    }
    // h_{m+1}(d, d_j) = h_{m+1}(d) + d_j · h_m(d, d_j).
    for (let i = 0; i < js.length; i++) {
      const p = jp[i];
      stepInto(pm, pe, Em[i], Ee[i], dm[p], de[p], db[p], t1);
      Em[i] = t1.m;
      Ee[i] = t1.e;
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
