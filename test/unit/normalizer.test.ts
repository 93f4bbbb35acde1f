import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CcInputError,
  CcWorkspace,
  ccMean,
  lnGammaInt,
  logExpDivDiff,
  logNormalizer,
  logNormalizerFromLambda,
} from '../../src/core';
import { logExpPartialFraction, preferPartialFraction } from '../../src/core/cc/partialFraction';
import { Dec, bigLogC, bigNaiveLogC, lnGammaDec } from '../reference/bigSeries';
import { LARGE_KS, LARGE_SPREADS, makeVector, rng, type VectorSpec } from '../reference/vectors';
import { assertClose, logCTol, show } from './helpers';

interface RefEntry extends VectorSpec {
  logC: string;
  mean: [number, string][];
}
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/cc-reference.json', import.meta.url), 'utf8'),
) as { vectors: RefEntry[] };

describe('log C: special values first', () => {
  it('rejects NaN, ±∞ and K < 2, naming the value and position', () => {
    assert.throws(() => logNormalizer([0, NaN, 1]), (e: unknown) => e instanceof CcInputError && /η\[1\] = NaN/.test(e.message));
    assert.throws(() => logNormalizer([0, 1, Infinity]), /η\[2\] = Infinity/);
    assert.throws(() => logNormalizer([-Infinity, 1]), /η\[0\] = -Infinity/);
    assert.throws(() => logNormalizer([3]), /K ≥ 2.*K = 1/);
    assert.throws(() => logNormalizer([]), /K = 0/);
  });
  it('rejects negative, zero and all-zero probabilities', () => {
    assert.throws(() => logNormalizerFromLambda([0.5, -0.1, 0.6]), /λ\[1\] = -0.1 is negative/);
    assert.throws(() => logNormalizerFromLambda([0, 0, 0]), /all 3 probabilities are zero/);
    assert.throws(() => logNormalizerFromLambda([0.5, 0, 0.5]), /λ\[1\] = 0/);
    assert.throws(() => logNormalizerFromLambda([0.5, NaN]), /λ\[1\] = NaN/);
  });
  it('exactly uniform λ: log C = lnΓ(K) − c, for K up to 100 000', () => {
    for (const K of [2, 3, 6, 10, 171, 172, 1000, 100_000]) {
      for (const c of [0, -3.5, 12.25]) {
        const expected = lnGammaInt(K) - c;
        assertClose(logNormalizer(new Float64Array(K).fill(c)), expected, logCTol(expected), `uniform K=${K} c=${c}`);
      }
    }
  });
  it('normalized uniform λ = 1/K gives log K!', () => {
    for (const K of [2, 5, 10, 100]) {
      const expected = lnGammaInt(K + 1);
      assertClose(logNormalizerFromLambda(new Float64Array(K).fill(1 / K)), expected, logCTol(expected), `λ=1/K, K=${K}`);
    }
  });
  it('lnΓ at integers matches the exact factorial across the table/Stirling switch', () => {
    for (const K of [1, 2, 3, 23, 100, 170, 171, 172, 173, 300, 499]) {
      const expected = Number(lnGammaDec(K).toString()); // exact factorial in Decimal
      assertClose(lnGammaInt(K), expected, 2e-14 * Math.max(1, expected), `lnΓ(${K})`);
    }
    let f = 1n;
    for (let k = 2n; k < 600n; k++) f *= k;
    const exact600 = Number(new Dec(f.toString()).ln().toString());
    assertClose(Number(lnGammaDec(600).toString()), exact600, 1e-15 * exact600, 'the oracle\'s Stirling series at 600');
    for (const K of [600, 10_000, 100_000, 1_000_000]) {
      const expected = Number(lnGammaDec(K).toString());
      assertClose(lnGammaInt(K), expected, 1e-15 * expected, `lnΓ(${K}) vs Decimal`);
    }
  });
});

describe('log C: the reference values of the note', () => {
  const cases: [string, number[], number][] = [
    ['(1, 0)', [1, 0], -0.54132485461291810898],
    ['(2^-30, 0)', [2 ** -30, 0], -4.6566128734387933023e-10],
    ['(0, 0, 0)', [0, 0, 0], 0.69314718055994530942],
    ['ten zeros', new Array<number>(10).fill(0), 12.801827480081469611],
    ['10 000 zeros', new Array<number>(10_000).fill(0), 82099.717496442377273],
    ['(k−1)·2^-10, K = 10', Array.from({ length: 10 }, (_, k) => k * 2 ** -10), 12.797432591203603801],
    ['(0 ×9, 5)', [0, 0, 0, 0, 0, 0, 0, 0, 0, 5], 12.171812751678506275],
    ['(0, 0, 0, 2^-30)', [0, 0, 0, 2 ** -30], 1.7917594689952243571],
  ];
  for (const [name, eta, expected] of cases) {
    it(name, () => assertClose(logNormalizer(eta), expected, logCTol(expected), name));
  }
  it('(2^-30, 0) to full relative precision', () => {
    const v = logNormalizer([2 ** -30, 0]);
    assertClose(v, -4.6566128734387933023e-10, 4e-16 * 4.66e-10, 'relative');
  });
  it('mean for η = (1, 0) is (1/(e−1), 1 − 1/(e−1))', () => {
    const { mean } = ccMean([1, 0]);
    assertClose(mean[0], 0.58197670686932642439, 1e-12 * 0.582, 'μ_0');
    assertClose(mean[1], 0.41802329313067357561, 1e-12 * 0.418, 'μ_1');
  });
});

describe('log C: closed forms', () => {
  it('K = 2, η = (a, 0): log C = −log(expm1(a)/a)', () => {
    for (let e = -40; e <= 9.4; e += 0.37) {
      for (const sign of [1, -1]) {
        const a = sign * Math.exp(e);
        const expected = -Math.log(Math.expm1(a) / a);
        // Up to the contract's spread 700: 1e-13·max(1, |log C|). Beyond it, the float64 node
        // differences themselves carry u·ρ, which bounds any float64 method.
        const tol = Math.abs(a) <= 700 ? logCTol(expected) : 4 * 2 ** -53 * Math.abs(a);
        assertClose(logNormalizer([a, 0]), expected, tol + 4e-16 * Math.abs(expected), `(a, 0), a=${a}`);
      }
    }
  });
  it('equally spaced η_k = (k−1)h: log C = lnΓ(K) − (K−1)·log(expm1(h)/h)', () => {
    for (const K of [2, 3, 5, 10, 100, 1000, 10_000]) {
      for (const h of [1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.5]) {
        if ((K - 1) * h > 800) continue;
        const eta = Array.from({ length: K }, (_, k) => k * h);
        const expected = lnGammaInt(K) - (K - 1) * Math.log(Math.expm1(h) / h);
        // The closed form itself carries ~K ulp of (K−1)·log(…) in float64.
        const tol = logCTol(expected) + 4 * K * 2 ** -53 * Math.abs((K - 1) * Math.log(Math.expm1(h) / h));
        assertClose(logNormalizer(eta), expected, tol, `K=${K} h=${h}`);
      }
    }
  });
});

describe('log C and μ against the arbitrary-precision reference (test/fixtures/cc-reference.json)', () => {
  it(`covers K ∈ {2 … 10 000} and spreads 0 … 700 (${reference.vectors.length} vectors)`, () => {
    assert.ok(reference.vectors.length >= 250);
    const ks = new Set(reference.vectors.map((v) => v.K));
    for (const K of [2, 3, 5, 10, 100, 1000, 10000]) assert.ok(ks.has(K), `K=${K} missing`);
    const spreads = new Set(reference.vectors.map((v) => v.spread));
    for (const s of [0, 1e-12, 1e-6, 1e-3, 0.1, 1, 10, 100, 700]) assert.ok(spreads.has(s), `spread ${s} missing`);
    // Large spreads at large K, where a table rescaled as a whole loses the low prefixes' mass.
    for (const K of LARGE_KS) {
      for (const s of LARGE_SPREADS) {
        assert.ok(reference.vectors.some((v) => v.K === K && v.spread === s), `K=${K} spread ${s} missing`);
      }
    }
  });
  const ws = new CcWorkspace();
  for (const ref of reference.vectors) {
    it(`K=${ref.K} spread=${ref.spread} ${ref.pattern}`, () => {
      const eta = makeVector(ref);
      const expected = Number(ref.logC);
      const out = new Float64Array(ref.K);
      const { logC, mean } = ccMean(eta, out, ws);
      assertClose(logC, expected, logCTol(expected), `log C of ${show(eta)}`);
      assertClose(logNormalizer(eta, ws), expected, logCTol(expected), `log C (without the mean) of ${show(eta)}`);
      for (const [j, m] of ref.mean) {
        const mu = Number(m);
        assertClose(mean[j], mu, 1e-12 * mu, `μ_${j} of ${show(eta)}`);
      }
    });
  }
});

describe('the partial-fraction route (small K, far-apart nodes)', () => {
  it('is taken, and exact, where its error bound holds; falls back to the series where not', () => {
    const r = rng(31);
    let taken = 0;
    let total = 0;
    for (let n = 0; n < 300; n++) {
      const K = 2 + Math.floor(r() * 20);
      const spread = [20, 60, 150, 700][n % 4];
      const eta = Array.from({ length: K }, () => r() * spread - spread / 2);
      if (!preferPartialFraction(K, Math.max(...eta) - Math.min(...eta))) continue;
      total++;
      const pf = logExpPartialFraction(eta, K, 0, Math.max(...eta));
      const expected = Number(bigLogC(eta).logC.toString());
      if (pf === pf) {
        taken++;
        assertClose(-pf, expected, logCTol(expected), `partial fractions on ${show(eta)}`);
      }
      assertClose(logNormalizer(eta), expected, logCTol(expected), `log C of ${show(eta)}`);
    }
    assert.ok(total > 100 && taken > total / 2, `route taken ${taken} of ${total} times`);
  });
  it('refuses ties and close pairs', () => {
    assert.ok(Number.isNaN(logExpPartialFraction([0, 50, 50, 100], 4, 0, 100)));
    assert.ok(Number.isNaN(logExpPartialFraction([0, 50, 100 - 1e-9, 100], 4, 0, 100)));
    // A close pair far below the top is harmless (its terms carry e^-50) and is accepted, exactly.
    const low = [0, 1e-9, 50, 100];
    assertClose(-logExpPartialFraction(low, 4, 0, 100), Number(bigLogC(low).logC.toString()), 1e-13 * 100, "close pair at the bottom");
  });
});

/**
 * log exp[η] for a two-value vector, a zeros and b copies of ρ (K = a + b), from its closed
 * form: h_m = C(m+b−1, b−1)·ρ^m, so exp[η] = Σ_m ρ^m C(m+b−1, b−1)/(m+K−1)!, a sum of
 * positive terms with ratio ρ(m+b)/((m+1)(m+K)) ≤ ρ/(m+1). In Decimal at 60 digits.
 */
function twoValueLogExp(a: number, b: number, rho: number): InstanceType<typeof Dec> {
  const K = a + b;
  const r = new Dec(rho);
  let term = new Dec(1); // ρ^m C(m+b−1, b−1) (K−1)!/(m+K−1)!
  let sum = new Dec(1);
  for (let m = 0; ; m++) {
    term = term.times(r).times(m + b).div((m + 1) * (m + K));
    sum = sum.plus(term);
    const q = rho / (m + 2); // bounds every later ratio
    if (q < 0.5 && term.lte(sum.times(1e-70))) break;
    if (m > 1_000_000) throw new Error('closed form did not converge');
  }
  return sum.ln().minus(lnGammaDec(K));
}

describe('two-value vectors (a zeros, b copies of ρ) against their closed form', () => {
  // Large K and spread: a low prefix, negligible next to the table's top at one degree, carries
  // much of the top at later degrees; a table rescaled as a whole (flushing entries far below
  // its top) loses that mass.
  const cases: [number, number, number][] = [
    [1, 999, 5000],
    [500, 500, 5000],
    [1, 99, 3000],
    [50, 50, 3000],
    [90, 10, 3000],
  ];
  const vectorOf = (a: number, b: number, rho: number): number[] => {
    // The zeros spread evenly among the ρs (for a = 1, last), so the sorts are exercised.
    const K = a + b;
    return Array.from({ length: K }, (_, i) => (Math.floor(((i + 1) * a) / K) > Math.floor((i * a) / K) ? 0 : rho));
  };
  it('the closed form itself matches values computed independently with mpmath', () => {
    // log exp[η] for (0, 5000 ×999) and (0 ×500, 10000 ×500).
    const want1 = new Dec('-907.01287753788326');
    assert.ok(twoValueLogExp(1, 999, 5000).minus(want1).abs().lte(2e-14 * 907), 'K = 1000, (1, 999), ρ = 5000');
    const want2 = new Dec('2764.78216875863');
    assert.ok(twoValueLogExp(500, 500, 10_000).minus(want2).abs().lte(1e-14 * 2765), 'K = 1000, (500, 500), ρ = 10000');
  });
  for (const [a, b, rho] of cases) {
    const K = a + b;
    it(`the oracle agrees to 20 digits: K = ${K}, (a, b) = (${a}, ${b}), ρ = ${rho}`, () => {
      const eta = vectorOf(a, b, rho);
      assert.equal(eta.filter((v) => v === 0).length, a);
      const want = twoValueLogExp(a, b, rho);
      const got = bigLogC(eta).logC.neg();
      assert.ok(got.minus(want).abs().lte(want.abs().times(1e-20)), `oracle ${got.toString()} vs closed form ${want.toString()}`);
    });
    // Fails while the float64 core flushes low prefixes in its global rescale (src/core/cc/series.ts).
    it(`the float64 core agrees to 1e-12 relative: K = ${K}, (a, b) = (${a}, ${b}), ρ = ${rho}`, () => {
      const eta = vectorOf(a, b, rho);
      const want = Number(twoValueLogExp(a, b, rho).toString());
      const tol = 1e-12 * Math.max(1, Math.abs(want));
      assertClose(logExpDivDiff(eta), want, tol, `log exp of ${K} nodes, ${a} zeros and ${b} × ${rho}`);
      assertClose(logNormalizer(eta), -want, tol, `log C of ${K} nodes, ${a} zeros and ${b} × ${rho}`);
    });
  }
});

describe('the oracle itself', () => {
  it('agrees with the naive formula at 400 digits on distinct nodes', () => {
    const r = rng(99);
    for (let n = 0; n < 12; n++) {
      const K = 2 + (n % 5);
      const spread = [1e-6, 1e-3, 1, 10][n % 4];
      const eta = Array.from({ length: K }, () => (r() - 0.5) * spread);
      const a = bigLogC(eta).logC;
      const b = bigNaiveLogC(eta);
      assert.ok(a.minus(b).abs().lte(1e-40), `oracle ${a.toString()} vs naive@400 ${b.toString()} for ${show(eta)}`);
    }
  });
  it('agrees with the naive formula at 600 digits at spread 700, with the largest node early in the list', () => {
    const r = rng(7);
    const eta = Array.from({ length: 40 }, () => r() * 700);
    eta[1] = 700;
    eta[5] = 0;
    const a = bigLogC(eta).logC;
    const b = bigNaiveLogC(eta, 600);
    assert.ok(a.minus(b).abs().lte(1e-40), `oracle ${a.toString()} vs naive@600 ${b.toString()}`);
  });
  it('recomputes part of the reference live (K ≤ 100)', () => {
    for (const ref of reference.vectors.filter((v) => v.K <= 100).slice(0, 200)) {
      const r = bigLogC(makeVector(ref));
      assert.equal(r.logC.toSignificantDigits(25).toString(), ref.logC, `K=${ref.K} spread=${ref.spread} ${ref.pattern}`);
    }
  });
});

describe('properties', () => {
  const r = rng(2024);
  const sample = (): number[] => {
    const K = [2, 3, 6, 10, 50, 300][Math.floor(r() * 6)];
    const spread = [0, 1e-9, 1e-4, 0.3, 3, 30, 300][Math.floor(r() * 7)];
    return Array.from({ length: K }, () => (r() - 0.5) * spread);
  };
  it('shift covariance: log C(η + a) = log C(η) − a', () => {
    for (let n = 0; n < 60; n++) {
      const eta = sample();
      const a = Math.round((r() - 0.5) * 64) / 8; // exact shifts
      const base = logNormalizer(eta);
      const shifted = logNormalizer(eta.map((v) => v + a));
      assertClose(shifted, base - a, logCTol(base) + 4 * 2 ** -53 * Math.abs(a) * eta.length, `shift ${a} of ${show(eta)}`);
    }
  });
  it('permutation invariance of log C, and μ permutes with η', () => {
    for (let n = 0; n < 60; n++) {
      const eta = sample();
      const perm = eta.map((_, i) => i).sort(() => r() - 0.5);
      const a = ccMean(eta);
      const b = ccMean(perm.map((i) => eta[i]));
      assertClose(b.logC, a.logC, logCTol(a.logC), `permuted ${show(eta)}`);
      perm.forEach((i, j) => assertClose(b.mean[j], a.mean[i], 1e-12 * a.mean[i], `μ permuted, component ${i}`));
    }
  });
  it('μ lies on the simplex: every μ_j > 0 and Σμ = 1', () => {
    for (let n = 0; n < 100; n++) {
      const eta = sample();
      const { mean } = ccMean(eta);
      let s = 0;
      for (const m of mean) {
        assert.ok(m > 0 && m < 1, `μ component ${m} for ${show(eta)}`);
        s += m;
      }
      assertClose(s, 1, 8 * eta.length * 2 ** -53, `Σμ for ${show(eta)}`);
    }
  });
  it('μ is the gradient of log exp[η] (central finite differences)', () => {
    for (let n = 0; n < 40; n++) {
      const eta = sample().slice(0, 12);
      const { mean } = ccMean(eta);
      const h = 1e-5;
      for (let j = 0; j < eta.length; j++) {
        const up = eta.slice();
        const dn = eta.slice();
        up[j] += h;
        dn[j] -= h;
        const fd = (logExpDivDiff(up) - logExpDivDiff(dn)) / (2 * h);
        assertClose(fd, mean[j], 1e-8 + 1e-6 * mean[j], `∂/∂η_${j} of ${show(eta)}`);
      }
    }
  });
  it('is exact at the extremes: spread 700 with K = 100 000, and clustered nodes', () => {
    const K = 100_000;
    const eta = Array.from({ length: K }, (_, k) => (k % 2 === 0 ? 0 : 700));
    // Two clusters of equal size: exp[η] has a closed form through the Beta integral;
    // check instead against the oracle at a subset-free level: compare K and K/2 scaling.
    const v = logNormalizer(eta);
    assert.ok(Number.isFinite(v), 'finite');
    const ref = Number(bigLogC(eta.slice(0, 2000)).logC.toString());
    const mine = logNormalizer(eta.slice(0, 2000));
    assertClose(mine, ref, logCTol(ref), 'K=2000 two clusters at spread 700');
  });
});
