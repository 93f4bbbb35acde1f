import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CcInputError,
  ccLabelSmoothing,
  ccMean,
  ccMeanBatch,
  ccNll,
  ccNllBatch,
  crossEntropy,
  labelSmoothingCrossEntropy,
  labelSmoothingTarget,
  logNormalizer,
  logNormalizerBatch,
} from '../../src/core';
import { rng } from '../reference/vectors';
import { assertClose } from './helpers';

const r = rng(5);
const logits = (K: number, spread: number): number[] => Array.from({ length: K }, () => (r() - 0.5) * spread);
const simplex = (K: number): number[] => {
  const x = Array.from({ length: K }, () => -Math.log(1 - r()));
  const s = x.reduce((a, b) => a + b, 0);
  return x.map((v) => v / s);
};

function checkGradient(f: (z: number[]) => { loss: number; grad: Float64Array }, z: number[], what: string): void {
  const { grad } = f(z);
  const h = 1e-6;
  for (let k = 0; k < z.length; k++) {
    const up = z.slice();
    const dn = z.slice();
    up[k] += h;
    dn[k] -= h;
    const fd = (f(up).loss - f(dn).loss) / (2 * h);
    assertClose(grad[k], fd, 1e-7, `${what}: ∂/∂z_${k}`);
  }
}

describe('losses', () => {
  it('label-smoothing target is (1−α)·onehot + α/K and sums to 1', () => {
    const y = labelSmoothingTarget(2, 10, 0.1);
    assertClose(y[2], 0.91, 1e-15, 'y[label]');
    assertClose(y[0], 0.01, 1e-15, 'y[other]');
    assertClose(y.reduce((a, b) => a + b, 0), 1, 1e-15, 'Σy');
    assert.throws(() => labelSmoothingTarget(10, 10, 0.1), /label 10 is not a class index in \[0, 9\]/);
    assert.throws(() => labelSmoothingTarget(0, 10, 1.5), /α = 1.5/);
  });
  it('cross-entropy with a one-hot target is −log softmax, with gradient softmax − y', () => {
    const z = [2, -1, 0.5];
    const { loss } = crossEntropy(z, [1, 0, 0]);
    const lse = Math.log(Math.exp(2) + Math.exp(-1) + Math.exp(0.5));
    assertClose(loss, lse - 2, 1e-15, 'CE');
    for (let n = 0; n < 10; n++) {
      const y = simplex(5);
      checkGradient((zz) => crossEntropy(zz, y), logits(5, 4), 'CE soft');
    }
  });
  it('CC NLL is log exp[z] − y·z and its gradient is μ − y', () => {
    const { loss } = ccNll([1, 0], [1, 0]);
    assertClose(loss, Math.log(Math.E - 1) - 1, 1e-15, 'ℓ_CC((1,0);(1,0))');
    for (const spread of [0, 1e-8, 1e-3, 1, 10]) {
      for (let n = 0; n < 5; n++) {
        const K = 2 + (n % 6);
        const y = simplex(K);
        const z = logits(K, spread);
        const { loss: l, grad } = ccNll(z, y);
        const yz = z.reduce((a, v, k) => a + v * y[k], 0);
        assertClose(l, -logNormalizer(z) - yz, 1e-13 * Math.max(1, Math.abs(l)), 'ℓ_CC definition');
        const mu = ccMean(z).mean;
        grad.forEach((g, k) => assertClose(g, mu[k] - y[k], 1e-15, 'μ − y'));
        if (spread > 0) checkGradient((zz) => ccNll(zz, y), z, `CC spread ${spread}`);
      }
    }
  });
  it('CC NLL is shift invariant in z (CC depends on softmax(z) only)', () => {
    const z = logits(7, 3);
    const y = simplex(7);
    assertClose(ccNll(z.map((v) => v + 4.5), y).loss, ccNll(z, y).loss, 1e-12, 'shift');
  });
  it('CC-LS is ℓ_CC on y^LS; LS is CE on y^LS; at exactly uniform logits CC-LS is finite', () => {
    const z = logits(10, 2);
    assertClose(ccLabelSmoothing(z, 3, 0.1).loss, ccNll(z, labelSmoothingTarget(3, 10, 0.1)).loss, 0, 'CC-LS');
    assertClose(labelSmoothingCrossEntropy(z, 3, 0.1).loss, crossEntropy(z, labelSmoothingTarget(3, 10, 0.1)).loss, 0, 'LS');
    const u = ccLabelSmoothing(new Array<number>(10).fill(0), 3, 0.1);
    assert.ok(Number.isFinite(u.loss) && u.grad.every(Number.isFinite), 'finite at uniform');
    assertClose(u.grad[3], 0.1 - 0.91, 1e-15, 'gradient at uniform: 1/K − y');
  });
  it('rejects targets off the simplex and bad logits with the position', () => {
    assert.throws(() => ccNll([0, 1], [0.5, 0.6]), /sums to 1.1/);
    assert.throws(() => ccNll([0, 1], [-0.5, 1.5]), /y\[0\] = -0.5 is negative/);
    assert.throws(() => ccNll([0, NaN], [0.5, 0.5]), /z\[1\] = NaN/);
    assert.throws(() => crossEntropy([0, 1, 2], [0.5, 0.5]), /target has 2 entries, the logits 3/);
  });
});

describe('batched API over N×K rows', () => {
  it('gives the same numbers as the single-vector calls, row by row', () => {
    const N = 50;
    const K = 7;
    const eta = new Float64Array(N * K);
    const y = new Float64Array(N * K);
    for (let n = 0; n < N; n++) {
      const spread = [0, 1e-9, 1e-3, 1, 30][n % 5];
      logits(K, spread).forEach((v, k) => (eta[n * K + k] = v));
      simplex(K).forEach((v, k) => (y[n * K + k] = v));
    }
    const logC = logNormalizerBatch(eta, { rows: N, cols: K });
    const { mean, logC: logC2 } = ccMeanBatch(eta, { rows: N, cols: K });
    const { loss, grad } = ccNllBatch(eta, y, { rows: N, cols: K });
    for (let n = 0; n < N; n++) {
      const row = Array.from(eta.subarray(n * K, (n + 1) * K));
      const single = ccMean(row);
      assert.equal(logC[n], logNormalizer(row));
      assert.equal(logC2[n], single.logC);
      for (let k = 0; k < K; k++) assert.equal(mean[n * K + k], single.mean[k]);
      const l = ccNll(row, Array.from(y.subarray(n * K, (n + 1) * K)));
      assert.equal(loss[n], l.loss);
      for (let k = 0; k < K; k++) assert.equal(grad[n * K + k], l.grad[k]);
    }
  });
  it('names the row and column of a bad value, and checks the shape', () => {
    const eta = new Float64Array([0, 1, 2, 3, NaN, 5]);
    assert.throws(
      () => logNormalizerBatch(eta, { rows: 2, cols: 3 }),
      (e: unknown) => e instanceof CcInputError && e.row === 1 && e.index === 1 && /row 2, column 2/.test(e.message),
    );
    assert.throws(() => logNormalizerBatch(new Float64Array(5), { rows: 2, cols: 3 }), /5 numbers, not rows × K = 2 × 3/);
    assert.throws(
      () => ccNllBatch(new Float64Array(4), new Float64Array([0.5, 0.5, 0.2, 0.2]), { rows: 2, cols: 2 }),
      /row 2: the target sums to 0.4/,
    );
  });
  it('reuses caller buffers: results land in the arrays passed in', () => {
    const eta = new Float64Array([0, 1, 1, 0]);
    const out = new Float64Array(2);
    assert.equal(logNormalizerBatch(eta, { rows: 2, cols: 2 }, out), out);
    assertClose(out[0], out[1], 0, 'permuted rows agree');
  });
});
