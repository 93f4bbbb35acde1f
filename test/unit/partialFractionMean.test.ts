import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/probe/rng';
import { ccMean, ccMeanInto } from '../../src/core/cc/normalizer';
import { bigLogC } from '../reference/bigSeries';
import { logExpMeanPartialFraction } from '../../src/core/cc/partialFraction';
import { CcWorkspace } from '../../src/core/cc/workspace';

/** A seeded generator (the probes' own), so a failure can be rerun. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

describe('log exp[η] and the CC mean by partial fractions (the training op fast path)', () => {
  it('agrees with the series wherever it accepts: log exp to 1e-13 relative, μ to 1e-13 absolute', () => {
    const ws = new CcWorkspace();
    const r = rng(11);
    let accepted = 0;
    let refused = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const K = 2 + Math.floor(r() * 31);
      const spread = [2.5 * (K - 1), 10 * K, 300, 1000][trial % 4] * (0.5 + r());
      const eta = Float64Array.from({ length: K }, () => spread * r() - 40);
      if (trial % 7 === 0) eta[1] = eta[0] + 1e-9 * r(); // a near-tie: the bound must refuse or hold
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of eta) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const mu = new Float64Array(K);
      const v = logExpMeanPartialFraction(eta, K, 0, hi, new Float64Array(K), mu, 0);
      if (Number.isNaN(v)) {
        refused++;
        continue;
      }
      accepted++;
      const wantMu = new Float64Array(K);
      const want = ccMeanInto(eta, K, ws, 0, wantMu, 0);
      assert.ok(Math.abs(v - want) <= 1e-13 * Math.max(1, Math.abs(want)), `K=${K} spread ${hi - lo}: ${v} vs ${want}`);
      for (let k = 0; k < K; k++) assert.ok(Math.abs(mu[k] - wantMu[k]) <= 1e-13, `K=${K} μ[${k}] ${mu[k]} vs ${wantMu[k]}`);
    }
    // The route must actually be taken for far-apart nodes, and refuse near-ties.
    assert.ok(accepted > 1500, `accepted ${accepted}`);
    assert.ok(refused > 100, `refused ${refused}`);
  });

  it('refuses exact ties and uniform rows', () => {
    const out = new Float64Array(3);
    assert.ok(Number.isNaN(logExpMeanPartialFraction([0, 0, 0], 3, 0, 0, new Float64Array(3), out, 0)));
    assert.ok(Number.isNaN(logExpMeanPartialFraction([5, 1, 5], 3, 0, 5, new Float64Array(3), out, 0)));
  });
});

describe('the CC mean at large spreads', () => {
  // Found while building the probes: the series mean lost its early terms past ρ ≈ 720 (they
  // were rescaled into underflow; absolute error 4e-5 at 800, 1e-2 at 2000). Checked against
  // the BigInt oracle.
  const r = rng(5);
  for (const spread of [700, 730, 800, 1000, 2000, 5000]) {
    for (const K of [3, 10, 40]) {
      it(`spread ${spread}, K = ${K}: μ within 1e-13 of the oracle, log C within 1e-15·ρ`, () => {
        const eta = Array.from({ length: K }, () => spread * r() - 50);
        eta[0] = -50;
        eta[1] = spread - 50;
        const { logC, mean } = ccMean(eta);
        const big = bigLogC(eta, 'all');
        assert.ok(Math.abs(logC - Number(big.logC.toString())) <= 1e-15 * spread * 8, `log C ${logC} vs ${big.logC.toString()}`);
        for (let k = 0; k < K; k++) {
          const want = Number(big.mean!.get(k)!.toString());
          assert.ok(Math.abs(mean[k] - want) <= 1e-13, `μ[${k}] = ${mean[k]}, oracle ${want}`);
        }
      });
    }
  }
});
