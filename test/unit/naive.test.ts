import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  NEAR_UNIFORM_DIGITS_LOST,
  PRECISION,
  analyzeEta,
  digitsOf,
  logNormalizer,
  naiveLogC,
  naiveTermStats,
} from '../../src/core';
import { rng } from '../reference/vectors';

describe('the naive formula (the authors\' form)', () => {
  it('is right where it is well conditioned: K = 2 and far-apart nodes', () => {
    for (const eta of [[1, 0], [3, -2], [0, 5, 10], [0, 7, 15, 30]]) {
      const exact = logNormalizer(eta);
      const naive = naiveLogC(eta, 'float64');
      assert.ok(Math.abs(naive - exact) < 1e-12 * Math.max(1, Math.abs(exact)), `${naive} vs ${exact}`);
    }
  });
  it('divides by zero at exactly uniform λ and at ties', () => {
    assert.ok(!Number.isFinite(naiveLogC([0, 0, 0])));
    assert.ok(!Number.isFinite(naiveLogC([1, 2, 1, 3])));
    assert.ok(!Number.isFinite(naiveLogC([0.5, 0.5], 'float32')));
  });
  it('reproduces the failures the note describes (K = 6 float32 near uniform; K = 18 float64)', () => {
    const r = rng(6);
    let nan32 = 0;
    let worst64 = 0;
    for (let n = 0; n < 20; n++) {
      const eta6 = Array.from({ length: 6 }, () => (r() - 0.5) * 0.001);
      if (!Number.isFinite(naiveLogC(eta6, 'float32'))) nan32++;
      const eta18 = Array.from({ length: 18 }, () => (r() - 0.5) * 1);
      worst64 = Math.max(worst64, Math.abs(naiveLogC(eta18, 'float64') - logNormalizer(eta18)) || Infinity);
    }
    assert.ok(nan32 >= 10, `float32 K=6 spread 1e-3 gave a non-finite result ${nan32} times in 20`);
    assert.ok(worst64 > 1, `float64 K=18 spread 1: worst error ${worst64} nats`);
  });
  it('float32 emulation rounds every step (differs from float64 on the same input)', () => {
    const eta = [0.3, -1.2, 2.5];
    assert.notEqual(naiveLogC(eta, 'float32'), naiveLogC(eta, 'float64'));
    assert.equal(naiveLogC(eta, 'float32'), Math.fround(naiveLogC(eta, 'float32')));
  });
});

describe('digits lost: the prediction against what the naive code really loses', () => {
  for (const precision of ['float64', 'float32'] as const) {
    it(`${precision}: within one digit for most λ, unbiased, never far off`, () => {
      const { u } = PRECISION[precision];
      const D = digitsOf(precision);
      const r = rng(precision === 'float64' ? 64 : 32);
      const diffs: number[] = [];
      for (const K of [2, 3, 5, 6, 10, 18, 30]) {
        for (const spread of [1e-6, 1e-3, 0.1, 1, 3, 10, 30, 100]) {
          for (const offset of [0, 5, 50]) {
            for (let n = 0; n < 6; n++) {
              const eta = Array.from({ length: K }, () => (r() - 0.5) * spread + offset);
              const rep = analyzeEta(eta, { withMean: false });
              const naive = rep.naive[precision];
              if (naive.errorNats === null || naive.errorNats === Infinity) continue;
              const real = Math.min(D, Math.max(0, Math.log10(naive.errorNats / u)));
              // Only where both are measurable: not saturated at "all digits lost".
              if (naive.digitsLost < D - 1 && real < D - 0.5) diffs.push(real - naive.digitsLost);
            }
          }
        }
      }
      diffs.sort((a, b) => a - b);
      const within = diffs.filter((d) => Math.abs(d) <= 1).length / diffs.length;
      const median = diffs[Math.floor(diffs.length / 2)];
      const p95 = diffs[Math.floor(0.95 * (diffs.length - 1))];
      process.stdout.write(
        `# ${precision}: ${diffs.length} λ, ${(100 * within).toFixed(1)}% within one digit, median ${median.toFixed(2)}, 95th percentile ${p95.toFixed(2)}\n`,
      );
      assert.ok(diffs.length > 300, `only ${diffs.length} measurable cases`);
      assert.ok(within >= 0.8, `${(100 * within).toFixed(1)}% within one digit`);
      assert.ok(Math.abs(median) <= 0.5, `median difference ${median}`);
      assert.ok(p95 <= 1.6, `95th percentile ${p95}: the prediction underestimates`);
    });
  }
  it('says every digit is lost when the formula cannot represent a term (ties, overflow)', () => {
    const rep = analyzeEta([0, 0, 0, 1]);
    assert.equal(rep.naive.float64.digitsLost, digitsOf('float64'));
    assert.equal(rep.naive.float32.digitsLost, digitsOf('float32'));
    const big = analyzeEta(Array.from({ length: 400 }, (_, k) => Math.sin(k)), { withMean: false });
    assert.equal(big.naive.float32.digitsLost, digitsOf('float32'));
  });
  it('term sizes are finite in log space even where the products overflow', () => {
    const s = naiveTermStats(Array.from({ length: 3000 }, (_, k) => k * 1e-3));
    assert.ok(Number.isFinite(s.lnMaxTerm) && s.lnScaledLo < -745, `${JSON.stringify(s)}`);
  });
});

describe('near-uniform', () => {
  it(`is float32 digits lost > ${NEAR_UNIFORM_DIGITS_LOST.toFixed(2)} (fewer than 2 digits kept)`, () => {
    assert.ok(Math.abs(NEAR_UNIFORM_DIGITS_LOST - (digitsOf('float32') - 2)) < 1e-12);
    assert.equal(analyzeEta([0, 0, 0, 0, 0, 1e-3]).nearUniform, true);
    assert.equal(analyzeEta(new Array<number>(10).fill(0)).nearUniform, true);
    assert.equal(analyzeEta([0, 1e-6]).nearUniform, true);
    assert.equal(analyzeEta([5, 0, -5]).nearUniform, false);
    assert.equal(analyzeEta([1, 0]).nearUniform, false);
    // Trained-looking logits with a clear winner are not near-uniform.
    assert.equal(analyzeEta([1.47574, 2.40466, 4.76325, 2.86198, 3.53097, 0.53311, -2.84774, 3.30185, -0.19912, -0.37624]).nearUniform, false);
  });
  it('flags a freshly initialized network\'s outputs (logits ~ N(0, 0.01²), K = 10)', () => {
    const r = rng(10);
    for (let n = 0; n < 10; n++) {
      const eta = Array.from({ length: 10 }, () => (r() - 0.5) * 0.02);
      assert.equal(analyzeEta(eta, { withMean: false }).nearUniform, true);
    }
  });
  it('large K: the naive formula is sampled above 20 000 and still flags near-uniform λ', () => {
    const eta = Array.from({ length: 30_000 }, (_, k) => 1e-3 * Math.sin(k));
    const rep = analyzeEta(eta, { withMean: false });
    assert.equal(rep.naive.sampled, true);
    assert.equal(rep.naive.float64.logC, null);
    assert.equal(rep.nearUniform, true);
  });
});
