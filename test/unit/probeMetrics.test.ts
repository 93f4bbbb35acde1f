import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossEntropy, ccNll } from '../../src/core/cc/losses';
import { logNormalizer } from '../../src/core/cc/normalizer';
import { evaluateLogits, evaluateLogitsDetailed } from '../../src/core/probe/metrics';
import { Rng } from '../../src/core/probe/rng';
import { debiasedEma } from '../../src/core/probe/smoothing';
import { buildTable, formatTable, summarizeRun } from '../../src/core/probe/table';
import type { EvalPoint, RunSummary } from '../../src/shared/probeProtocol';
import { assertClose } from './helpers';

/** Random logits (rows × K, scale s), random labels, label-smoothing targets (α = 0.1). */
function batch(rows: number, K: number, scale: number, seed = 1) {
  const rng = new Rng(seed);
  const logits = new Float32Array(rows * K).map(() => scale * rng.normal());
  const labels = new Int32Array(rows).map(() => rng.int(K));
  const targets = new Float32Array(rows * K).fill(0.1 / K);
  for (let r = 0; r < rows; r++) targets[r * K + labels[r]] += 0.9;
  return { logits, labels, targets };
}

const rowOf = (a: Float32Array, r: number, K: number): number[] => Array.from(a.subarray(r * K, (r + 1) * K));

describe('evaluateLogits', () => {
  it('accuracy and ECE match a direct computation; the loss matches the core row by row', () => {
    const rows = 1000;
    const K = 10;
    const { logits, labels, targets } = batch(rows, K, 2.5);
    // Independent: softmax per row, the max probability and the argmax by indexOf, bins as
    // (b/15, (b+1)/15] found by scanning the boundaries.
    const nBin = new Array<number>(15).fill(0);
    const confBin = new Array<number>(15).fill(0);
    const accBin = new Array<number>(15).fill(0);
    let correct = 0;
    let ce = 0;
    let cc = 0;
    for (let r = 0; r < rows; r++) {
      const z = rowOf(logits, r, K);
      const e = z.map((v) => Math.exp(v));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      const conf = Math.max(...p);
      const hit = p.indexOf(conf) === labels[r] ? 1 : 0;
      correct += hit;
      let b = 0;
      while (!(conf <= (b + 1) / 15) && b < 14) b++;
      nBin[b]++;
      confBin[b] += conf;
      accBin[b] += hit;
      const y = rowOf(targets, r, K);
      const ys = y.reduce((a, v) => a + v, 0);
      ce += crossEntropy(z, y.map((v) => v / ys)).loss;
      cc += ccNll(z, y.map((v) => v / ys)).loss;
    }
    const ece = nBin.reduce((a, n, b) => a + (n ? Math.abs(accBin[b] - confBin[b]) : 0), 0) / rows;
    const mCe = evaluateLogits(logits, rows, K, labels, targets, 'ce');
    const mCc = evaluateLogits(logits, rows, K, labels, targets, 'cc');
    assert.equal(mCe.accuracy, correct / rows);
    assertClose(mCe.ece, ece, 1e-12, 'ECE');
    assertClose(mCe.loss, ce / rows, 1e-12, 'CE loss');
    assertClose(mCc.loss, cc / rows, 1e-12, 'CC loss');
    assert.equal(mCc.ece, mCe.ece);
    assert.equal(mCe.nonFinite, false);
  });
  it('exactly uniform logits: all near-uniform, and the naive formula fails (it divides by zero)', () => {
    const rows = 50;
    const K = 10;
    const m = evaluateLogits(new Float32Array(rows * K), rows, K, new Int32Array(rows), new Float32Array(rows * K).fill(0.1), 'cc');
    assert.equal(m.nearUniform, 1);
    assert.equal(m.naiveFailure, true);
    assertClose(m.digitsLostMax, -Math.log10(2 ** -24), 1e-12, 'every float32 digit lost');
    // CC NLL of the uniform target at uniform logits: −log C(ten zeros) (the note's reference).
    assertClose(m.loss, -12.801827480081469611, 1e-12, 'uniform CC loss');
  });
  it('confident, well-separated logits (spread 30): none near-uniform, no naive failure', () => {
    const rows = 300;
    const K = 10;
    const rng = new Rng(9);
    const logits = new Float32Array(rows * K);
    for (let r = 0; r < rows; r++) {
      const order = rng.permutation(K);
      for (let k = 0; k < K; k++) logits[r * K + k] = (30 * order[k]) / (K - 1);
    }
    const labels = new Int32Array(rows).map((_, r) => rowOf(logits, r, K).indexOf(30));
    const targets = new Float32Array(rows * K);
    labels.forEach((l, r) => (targets[r * K + l] = 1));
    const m = evaluateLogits(logits, rows, K, labels, targets, 'ce');
    assert.equal(m.nearUniform, 0);
    assert.equal(m.naiveFailure, false);
    assert.equal(m.accuracy, 1);
    assert.ok(m.digitsLostMax < 2, `digits lost ${m.digitsLostMax}`);
  });
  it('the naive figures use a fixed-stride subset of at most naiveRows rows', () => {
    const rows = 1000;
    const K = 6;
    const { logits, labels, targets } = batch(rows, K, 0.01);
    // Make every 4th row exactly uniform: a stride of 4 sees only those rows.
    for (let r = 0; r < rows; r += 4) logits.fill(0, r * K, (r + 1) * K);
    const d = evaluateLogitsDetailed(logits, rows, K, labels, targets, 'cc', { naiveRows: 250 });
    assert.equal(d.naiveRowsEvaluated, 250);
    assert.equal(d.point.naiveFailure, true);
    assertClose(d.point.digitsLostMedian, -Math.log10(2 ** -24), 1e-12, 'median over uniform rows');
    const all = evaluateLogitsDetailed(logits, rows, K, labels, targets, 'cc', { naiveRows: rows });
    assert.equal(all.naiveRowsEvaluated, rows);
  });
  it('a diverged model does not throw: non-finite rows, and CC rows beyond the core’s spread', () => {
    const K = 4;
    const logits = Float32Array.from([1, 2, 3, 4, NaN, 0, 0, 0, 0, Infinity, 1, 2, 3e6, 0, 1, 2]);
    const labels = Int32Array.from([3, 0, 1, 0]);
    const targets = new Float32Array(16).fill(0.25);
    const d = evaluateLogitsDetailed(logits, 4, K, labels, targets, 'cc');
    assert.equal(d.point.nonFinite, true);
    assert.ok(Number.isNaN(d.point.loss));
    assert.equal(d.point.accuracy, 2 / 4, 'rows 1 and 4 right; non-finite rows count as wrong');
    assert.equal(d.nonFiniteRows, 2);
    assert.equal(d.ccOutOfRangeRows, 1);
    assert.equal(d.lossRows, 1);
    assert.equal(d.point.naiveFailure, true);
    // Without the non-finite rows the loss is the computable rows' mean.
    const only = evaluateLogitsDetailed(Float32Array.from([1, 2, 3, 4, 3e6, 0, 1, 2]), 2, K, Int32Array.from([3, 0]), new Float32Array(8).fill(0.25), 'cc');
    assertClose(only.point.loss, ccNll([1, 2, 3, 4], [0.25, 0.25, 0.25, 0.25]).loss, 1e-12, 'loss over the computable row');
    const allNaN = evaluateLogits(new Float32Array(8).fill(NaN), 2, K, Int32Array.from([0, 1]), new Float32Array(8).fill(0.25), 'ce');
    assert.deepEqual(
      { acc: allNaN.accuracy, nonFinite: allNaN.nonFinite, fail: allNaN.naiveFailure },
      { acc: 0, nonFinite: true, fail: false },
    );
    assert.ok([allNaN.loss, allNaN.ece, allNaN.nearUniform, allNaN.digitsLostMedian].every(Number.isNaN));
  });
  it('timing: 1000 rows at K = 10 under 50 ms; 256 rows at K = 1000 measured', () => {
    const small = batch(1000, 10, 2);
    evaluateLogits(small.logits, 1000, 10, small.labels, small.targets, 'cc'); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      evaluateLogits(small.logits, 1000, 10, small.labels, small.targets, 'cc');
      times.push(performance.now() - t0);
    }
    const best = Math.min(...times);
    const big = batch(256, 1000, 2);
    const t1 = performance.now();
    const d = evaluateLogitsDetailed(big.logits, 256, 1000, big.labels, big.targets, 'cc');
    const m = d.point;
    const bigMs = performance.now() - t1;
    const t2 = performance.now();
    evaluateLogits(big.logits, 256, 1000, big.labels, big.targets, 'ce');
    const ceMs = performance.now() - t2;
    console.log(
      `# evaluateLogits: 1000 × 10 cc in ${best.toFixed(1)} ms (best of 5); 256 × 1000 cc in ${bigMs.toFixed(0)} ms, ce in ${ceMs.toFixed(0)} ms (naive figures on ${d.naiveRowsEvaluated} rows)`,
    );
    assert.equal(d.naiveRowsEvaluated, 33, 'the work budget caps the naive rows at K = 1000');
    assert.ok(best < 50, `1000 rows at K = 10 took ${best.toFixed(1)} ms`);
    assert.ok(Number.isFinite(m.loss));
    // A consistency check of the K = 1000 loss against the normalizer directly, on row 0.
    const z = rowOf(big.logits, 0, 1000);
    const y = rowOf(big.targets, 0, 1000);
    const ys = y.reduce((a, b) => a + b, 0);
    assertClose(ccNll(z, y.map((v) => v / ys)).loss, -logNormalizer(z) - z.reduce((a, v, k) => a + (v * y[k]) / ys, 0), 1e-9, 'row 0');
  });
});

describe('debiasedEma', () => {
  it('a constant series is that constant from the first point', () => {
    for (const w of [0, 0.6, 0.99, 0.999, 1]) assert.deepEqual(Array.from(debiasedEma([3, 3, 3, 3], w)), [3, 3, 3, 3], `weight ${w}`);
  });
  it('matches the formula, passes NaN through without poisoning the rest', () => {
    const v = [1, 5, NaN, 2, 8];
    const w = 0.5;
    // Finite points 1, 5, 2, 8: EMA from 0, divided by 1 − w^n.
    const ema = [0.5, 2.75, 2.375, 5.1875];
    const expected = [ema[0] / 0.5, ema[1] / 0.75, NaN, ema[2] / 0.875, ema[3] / 0.9375];
    const got = debiasedEma(v, w);
    expected.forEach((e, i) => (Number.isNaN(e) ? assert.ok(Number.isNaN(got[i])) : assertClose(got[i], e, 1e-15, `point ${i}`)));
    assert.deepEqual(Array.from(debiasedEma([1, 2, 6], 1)), [1, 1.5, 3], 'weight 1: the running mean');
    assert.deepEqual(Array.from(debiasedEma([1, 2, 6], 0)), [1, 2, 6], 'weight 0: no smoothing');
    assert.throws(() => debiasedEma([1], 1.5), /weight must be in \[0, 1\]/);
  });
});

describe('summaries and the table', () => {
  const point = (step: number, accuracy: number, ece: number, extra: Partial<EvalPoint> = {}): EvalPoint => ({
    step,
    loss: 1 - accuracy,
    accuracy,
    ece,
    nearUniform: 0.5,
    digitsLostMedian: 1,
    digitsLostMax: 2,
    naiveFailure: false,
    nonFinite: false,
    ...extra,
  });
  it('summarizeRun: last-10% training loss, first failures, steps per second', () => {
    const steps = Array.from({ length: 20 }, (_, i) => i + 1);
    const losses = steps.map((s) => 10 / s);
    const evals = [point(10, 0.5, 0.1, { naiveFailure: true }), point(20, 0.7, 0.05)];
    const s = summarizeRun(steps, losses, evals, 4);
    assert.equal(s.steps, 20);
    assertClose(s.finalTrainLoss!, (10 / 19 + 10 / 20) / 2, 1e-15, 'last 2 of 20 steps');
    assert.equal(s.lastEval, evals[1]);
    assert.equal(s.firstNaiveFailureStep, 10);
    assert.equal(s.firstNonFiniteStep, null);
    assert.equal(s.stepsPerSecond, 5);
    const diverged = summarizeRun([1, 2, 3], [1, NaN, NaN], [point(2, 0.1, 0.1, { nonFinite: true })], 0);
    assert.deepEqual([diverged.finalTrainLoss, diverged.firstNonFiniteStep, diverged.stepsPerSecond], [null, 2, 0]);
  });
  it('buildTable: mean and sample std over seeds, std null for one run', () => {
    const sum = (acc: number, ece: number, sps: number, fail: number | null = null): RunSummary => ({
      steps: 100,
      finalTrainLoss: 0.5,
      lastEval: point(100, acc, ece),
      firstNaiveFailureStep: fail,
      firstNonFiniteStep: null,
      stepsPerSecond: sps,
    });
    const rows = buildTable([
      { loss: 'ce', summary: sum(0.8, 0.1, 100) },
      { loss: 'cc', summary: sum(0.7, 0.2, 50, 30) },
      { loss: 'ce', summary: sum(0.9, 0.3, 200) },
      { loss: 'ce', summary: sum(0.7, 0.2, 300) },
      { loss: 'cc', summary: { ...sum(0, 0, 0, 10), lastEval: null } },
    ]);
    assert.deepEqual(rows.map((r) => r.loss), ['ce', 'cc']);
    const [ce, cc] = rows;
    assert.equal(ce.runs, 3);
    assertClose(ce.accuracyMean!, 0.8, 1e-15, 'accuracy mean');
    assertClose(ce.accuracyStd!, 0.1, 1e-15, 'accuracy std: deviations ±0.1, 0 → √(0.02/2)');
    assertClose(ce.eceMean!, 0.2, 1e-15, 'ECE mean');
    assertClose(ce.eceStd!, 0.1, 1e-15, 'ECE std');
    assertClose(ce.evalLossMean!, 0.2, 1e-15, 'held-out loss');
    assert.equal(ce.stepsPerSecond, 200);
    assert.equal(ce.firstNaiveFailureStep, null);
    assert.equal(cc.runs, 2);
    assert.equal(cc.accuracyMean, 0.7);
    assert.equal(cc.accuracyStd, null, 'one run with an evaluation');
    assert.equal(cc.firstNaiveFailureStep, 10, 'the earliest over seeds');
    const text = formatTable(rows);
    const lines = text.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^loss\s+runs\s+accuracy %\s+ECE\s+held-out loss\s+near-uniform %\s+naive fails at\s+steps\/s$/);
    assert.match(lines[2], /^ce \(cross-entropy\)\s+3\s+80\.00 ± 10\.00\s+0\.2000 ± 0\.1000\s+0\.2000\s+50\.0\s+never\s+200\.0$/);
    assert.match(lines[3], /^cc \(CC \(soft targets\)\)\s+2\s+70\.00\s+0\.2000\s+0\.3000\s+50\.0\s+step 10\s+50\.0$/);
    console.log(text.replace(/^/gm, '# '));
  });
});
