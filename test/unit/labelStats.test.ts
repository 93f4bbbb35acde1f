import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LabelStats, openLabels } from '../../src/core/labels';
import { assertClose } from './helpers';
import { numpyValues } from './labelHelpers';

const DIR = join(__dirname, '..', 'fixtures', 'labels', 'npy');
const soft = numpyValues().soft;

async function statsOf(file: string) {
  const src = await openLabels(join(DIR, file));
  const stats = new LabelStats(src.info.K);
  for await (const c of src.chunks()) stats.add(c);
  return stats.result();
}

describe('label statistics', () => {
  it('flags exactly the rows that are off the simplex, non-finite, negative or near-uniform', async () => {
    const r = await statsOf('soft_f64.npy');
    assert.equal(r.rows, 40);
    assert.equal(r.classes, 5);
    assert.deepEqual(
      { nonFinite: r.counts.nonFinite, negative: r.counts.negative, sumOff: r.counts.sumOff },
      // Row 13's negative entry also moves its sum off 1: both reasons count.
      { nonFinite: 2, negative: 1, sumOff: 2 },
    );
    assert.equal(r.counts.valid, 36);
    const byRow = new Map(r.flagged.map((f) => [f.row, f.reasons.join('; ')]));
    assert.match(byRow.get(11)!, /sums to 1\.10000, not 1/);
    assert.match(byRow.get(13)!, /negative value -0\.05 in column 2; sums to/);
    assert.match(byRow.get(17)!, /non-finite value NaN in column 3/);
    assert.match(byRow.get(19)!, /non-finite value Infinity in column 1/);
    // Row 3 is softmax of N(0, 1e-3²) logits, row 4 exactly uniform: both near-uniform.
    assert.match(byRow.get(3)!, /near-uniform: a naive float32 CC normalizer loses/);
    assert.match(byRow.get(4)!, /near-uniform/);
    // Row 7 is one-hot: it has zeros, so no CC normalizer, and it is not near-uniform.
    assert.equal(byRow.get(7), undefined);
    assert.equal(r.flaggedTotal, r.flagged.length);
  });
  it('aggregates match a direct computation over the valid rows', async () => {
    const r = await statsOf('soft_f64.npy');
    const valid = soft.filter((p) => p.every((v) => Number.isFinite(v) && v >= 0) && Math.abs(p.reduce((a, b) => a + b, 0) - 1) <= 1e-3);
    assert.equal(valid.length, r.counts.valid);
    const K = 5;
    const H = valid.map((p) => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assertClose(r.means.entropy, mean(H), 1e-12, 'mean entropy');
    assertClose(r.means.normalizedEntropy, mean(H) / Math.log(K), 1e-12, 'normalized entropy');
    assertClose(r.means.maxProb, mean(valid.map((p) => Math.max(...p))), 1e-12, 'mean max p');
    assertClose(r.means.tvToUniform, mean(valid.map((p) => p.reduce((a, v) => a + Math.abs(v - 1 / K), 0) / 2)), 1e-12, 'TV');
    assertClose(r.means.klToUniform, Math.log(K) - mean(H), 1e-12, 'KL');
    const argmax = (p: number[]): number => p.indexOf(Math.max(...p));
    assert.deepEqual(r.classCounts, [0, 1, 2, 3, 4].map((k) => valid.filter((p) => argmax(p) === k).length));
    [0, 1, 2, 3, 4].forEach((k) => assertClose(r.classMeans[k], mean(valid.map((p) => p[k])), 1e-12, `class ${k} mean`));
    for (const h of Object.values(r.histograms)) assert.equal(h.counts.reduce((a, b) => a + b, 0), r.counts.valid);
    const maxBin = (p: number): number => Math.min(19, Math.floor(Math.max(...[p]) * 20));
    const expectedMax = new Array<number>(20).fill(0);
    for (const p of valid) expectedMax[maxBin(Math.max(...p))]++;
    assert.deepEqual(r.histograms.maxProb.counts, expectedMax);
  });
  it('the same data gives the same figures in every format numpy wrote', async () => {
    const base = await statsOf('soft_f64.npy');
    for (const file of ['soft_v2.npy', 'soft_v3.npy', 'soft_f64_be.npy', 'soft_fortran.npy', 'soft.npz', 'soft_zip64.npz']) {
      assert.deepEqual(await statsOf(file), base, file);
    }
  });
  it('caps the flagged list but counts every flagged row', () => {
    const stats = new LabelStats(3, { maxFlagged: 5 });
    const data = new Float64Array(300).fill(0.5); // every row sums to 1.5
    stats.add({ data, rows: 100, K: 3, firstRow: 0 });
    const r = stats.result();
    assert.equal(r.flagged.length, 5);
    assert.equal(r.flaggedTotal, 100);
    assert.equal(r.counts.sumOff, 100);
  });
});
