/**
 * The tfjs helper that the "use the CC loss" quick fix inserts (src/core/lint/helpers), run as
 * the user would run it: its source written to a temporary ccLoss.ts and imported with tsx.
 * The repo has tfjs-core, not the umbrella @tensorflow/tfjs the helper imports, so the test
 * points that import at the same tfjs-core module this file uses (one engine, one backend).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { CC_HELPERS } from '../../src/core/lint/helpers';
import { coreReference, gradError, lossError, makeHelperCases, TOLERANCE } from '../fixtures/cc-helpers/cases';

type CcNll = (logits: tf.Tensor, target: tf.Tensor, reduction?: 'mean' | 'sum' | 'none') => tf.Tensor;

const IMPORT_LINE = "import * as tf from '@tensorflow/tfjs';";

describe('tfjs CC helper (ccLoss.ts) against the float64 core', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-helper-tfjs-'));
  let ccNll: CcNll;

  before(async () => {
    await tf.setBackend('cpu');
    const helper = CC_HELPERS.tfjs;
    assert.ok(helper.source.includes(IMPORT_LINE), 'the helper imports the umbrella package');
    const core = createRequire(__filename).resolve('@tensorflow/tfjs-core');
    const file = join(dir, helper.fileName);
    writeFileSync(file, helper.source.replace(IMPORT_LINE, `import * as tf from ${JSON.stringify(core)};`));
    ccNll = ((await import(pathToFileURL(file).href)) as { ccNll: CcNll }).ccNll;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches the core inside tf.grads for K ∈ {2, 10, 100, 1000}, spreads 0 … 100 (float32 tolerance)', () => {
    const failures: string[] = [];
    for (const c of makeHelperCases(['float32'])) {
      const B = c.z.length;
      const want = coreReference(c);
      const z = tf.tensor2d(c.z);
      const y = tf.tensor2d(c.y);
      const rows = ccNll(z, y, 'none');
      // d(mean)/dz = (μ − y)/B: the default reduction under tf.grads.
      const [g] = tf.grads((a: tf.Tensor) => ccNll(a, y))([z]);
      const le = lossError(rows.dataSync(), want.loss);
      const ge = gradError(Array.from(g.dataSync(), (v) => v * B), want.grad);
      if (!(le <= TOLERANCE.float32 && ge <= TOLERANCE.float32)) {
        failures.push(`K=${c.K} spread=${c.spread}: loss err ${le.toExponential(2)}, grad err ${ge.toExponential(2)}`);
      }
      tf.dispose([z, y, rows, g]);
    }
    assert.deepEqual(failures, []);
  });

  it('exactly uniform rows are finite: loss = −log (K−1)! exactly in λ, gradient 1/K − y', () => {
    const K = 1000;
    const z = tf.fill([2, K], 0.75);
    const y = tf.cast(tf.oneHot(tf.tensor1d([3, 999], 'int32'), K), 'float32');
    const [g] = tf.grads((a: tf.Tensor) => ccNll(a, y, 'sum'))([z]);
    let lnFact = 0;
    for (let i = 2; i < K; i++) lnFact += Math.log(i);
    for (const v of ccNll(z, y, 'none').dataSync()) assert.ok(Math.abs(v + lnFact) <= 1e-6 * lnFact, `loss ${v}`);
    const gv = g.dataSync();
    const yv = y.dataSync();
    for (let i = 0; i < gv.length; i++) assert.ok(Math.abs(gv[i] - (1 / K - yv[i])) < 1e-7, `g[${i}] = ${gv[i]}`);
  });

  it('reductions: mean (default), sum, none over leading dimensions', () => {
    const c = makeHelperCases(['float32'], 4)[9];
    const z = tf.tensor2d(c.z);
    const y = tf.tensor2d(c.y);
    const rows = Array.from(ccNll(z, y, 'none').dataSync());
    const sum = rows.reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(ccNll(z, y).dataSync()[0] - sum / 4) <= 1e-6 * Math.max(1, Math.abs(sum)));
    assert.ok(Math.abs(ccNll(z, y, 'sum').dataSync()[0] - sum) <= 1e-6 * Math.max(1, Math.abs(sum)));
    const nested = ccNll(tf.reshape(z, [2, 2, c.K]), tf.reshape(y, [2, 2, c.K]), 'none');
    assert.deepEqual(nested.shape, [2, 2]);
    assert.deepEqual(Array.from(nested.dataSync()), rows);
  });

  it('trains inside optimizer.minimize from uniform logits, without leaking tensors', () => {
    const K = 6; // Pong's action count, where the naive normalizer failed the paper's CC-AMN
    const D = 4;
    const x = tf.randomUniform([32, D], -0.5, 0.5, 'float32', 7);
    const y = tf.tidy(() => tf.add(tf.mul(tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % K), 'int32'), K), 0.9), 0.1 / K));
    const w = tf.variable(tf.zeros([D, K])); // zero weights: every row exactly uniform at step 0
    const b = tf.variable(tf.zeros([K]));
    const opt = tf.train.adam(0.05);
    const losses: number[] = [];
    let baseline = 0;
    for (let step = 0; step < 40; step++) {
      if (step === 3) baseline = tf.memory().numTensors;
      const l = opt.minimize(() => ccNll(tf.add(tf.matMul(x, w), b), y) as tf.Scalar, true)!;
      losses.push(l.dataSync()[0]);
      l.dispose();
    }
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    assert.equal(tf.memory().numTensors, baseline, 'tensors leaked per step');
    assert.ok(losses[39] < losses[0], `loss ${losses[0]} → ${losses[39]}`);
  });

  it('NaN for a row with a non-finite logit; a throw for spreads above 1e6', () => {
    const y = tf.tensor2d([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]]);
    const v = ccNll(tf.tensor2d([[0, NaN, 1], [0, 0.5, 1]]), y, 'none').dataSync();
    assert.ok(Number.isNaN(v[0]) && Number.isFinite(v[1]));
    assert.throws(() => ccNll(tf.tensor2d([[0, 2e6, 1], [0, 0.5, 1]]), y), /spread over 2\.000e\+6 > 1e6/);
  });
});
