import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/probe/rng';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { ccNllBatch } from '../../src/core/cc/batch';
import { crossEntropy } from '../../src/core/cc/losses';
import { crossEntropyMean, makeCcLoss } from '../../src/probe/tfjs/ccLoss';

/** A seeded generator (the probes' own), so a failure can be rerun. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

function draw(B: number, K: number, spread: number, seed: number): { z: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const z = new Float32Array(B * K);
  const y = new Float32Array(B * K);
  for (let b = 0; b < B; b++) {
    const centre = 3 * (r() - 0.5);
    let s = 0;
    for (let k = 0; k < K; k++) {
      z[b * K + k] = centre + spread * r();
      y[b * K + k] = r() ** 3;
      s += y[b * K + k];
    }
    for (let k = 0; k < K; k++) y[b * K + k] /= s;
  }
  return { z, y };
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
  return scale === 0 ? err : err / scale;
}

describe('tfjs CC loss op (cpu backend) against the float64 core', async () => {
  await tf.setBackend('cpu');
  const cc = makeCcLoss(tf);
  const B = 4;
  for (const K of [2, 3, 10, 100, 1000]) {
    for (const spread of [0, 1e-6, 1e-3, 1, 10, 100, 500]) {
      it(`K = ${K}, spread ${spread}: value and gradient within 1e-5`, () => {
        const { z, y } = draw(B, K, spread, K * 1000 + spread * 7 + 1);
        // The core on the same float32 numbers, in float64.
        const ref = ccNllBatch(Float64Array.from(z), Float64Array.from(y), { rows: B, cols: K });
        const wantLoss = ref.loss.reduce((a, b) => a + b, 0) / B;
        const wantGrad = ref.grad.map((g) => g / B);
        const zt = tf.tensor2d(z, [B, K]);
        const yt = tf.tensor2d(y, [B, K]);
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => cc(a, yt))([zt]);
        const got = value.dataSync()[0];
        assert.ok(Number.isFinite(got), `loss ${got}`);
        assert.ok(Math.abs(got - wantLoss) <= 1e-5 * Math.max(1, Math.abs(wantLoss)), `loss ${got} vs ${wantLoss}`);
        const g = grads[0].dataSync();
        for (const v of g) assert.ok(Number.isFinite(v));
        assert.ok(maxRelErr(g, wantGrad) <= 1e-5, `gradient off by ${maxRelErr(g, wantGrad)}`);
        tf.dispose([zt, yt, value, ...grads]);
      });
    }
  }

  it('an exactly uniform row: finite, log exp[z] = z0 − log (K−1)!, gradient 1/K − y', () => {
    const K = 10;
    const z = new Float32Array(K).fill(0.25);
    const y = new Float32Array(K).fill(0);
    y[3] = 1;
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => cc(a, tf.tensor2d(y, [1, K])))([tf.tensor2d(z, [1, K])]);
    let lnFact = 0;
    for (let i = 2; i < K; i++) lnFact += Math.log(i);
    assert.ok(Math.abs(value.dataSync()[0] - (0.25 - lnFact - 0.25)) < 1e-5);
    const g = grads[0].dataSync();
    for (let k = 0; k < K; k++) assert.ok(Math.abs(g[k] - (1 / K - y[k])) < 1e-6, `g[${k}] = ${g[k]}`);
  });

  it('cross-entropy op matches the core', () => {
    const { z, y } = draw(3, 7, 5, 9);
    const got = crossEntropyMean(tf, tf.tensor2d(z, [3, 7]), tf.tensor2d(y, [3, 7])).dataSync()[0];
    let want = 0;
    for (let b = 0; b < 3; b++) want += crossEntropy(z.subarray(b * 7, b * 7 + 7), y.subarray(b * 7, b * 7 + 7)).loss / 3;
    assert.ok(Math.abs(got - want) < 1e-5 * Math.abs(want));
  });

  it('trains inside optimizer.minimize without leaking tensors, and the loss falls', () => {
    const K = 10;
    const D = 5;
    const r = rng(4);
    const x = tf.tensor2d(Float32Array.from({ length: 32 * D }, () => r() - 0.5), [32, D]);
    const labels = Array.from({ length: 32 }, (_, i) => i % K);
    const y = tf.tidy(() => tf.add(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), K), 0.9), 0.01));
    const w = tf.variable(tf.zeros([D, K]));
    const b = tf.variable(tf.zeros([K]));
    const opt = tf.train.adam(0.1);
    const losses: number[] = [];
    let before = 0;
    for (let step = 0; step < 60; step++) {
      if (step === 5) before = tf.memory().numTensors;
      const l = opt.minimize(() => cc(tf.add(tf.matMul(x, w), b), y), true);
      losses.push(l!.dataSync()[0]);
      l!.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked per step');
    assert.ok(losses[59] < losses[0] - 0.5, `loss ${losses[0]} → ${losses[59]}`);
  });

  it('diverged logits raise DivergedError, not a NaN loss', () => {
    const z = tf.tensor2d([0, NaN, 1], [1, 3]);
    assert.throws(() => cc(z, tf.tensor2d([0.2, 0.3, 0.5], [1, 3])), { name: 'DivergedError' });
  });
});

describe('tfjs CC loss op on the wasm backend (as the probes train) against the float64 core', async () => {
  const { initTfjs } = await import('../../src/probe/tfjs/backend');
  const rt = await initTfjs('tfjs-wasm');
  const wtf = rt.tf as unknown as typeof tf;
  const cc = makeCcLoss(wtf);
  it('runs on wasm', () => assert.equal(wtf.getBackend(), 'wasm'));
  for (const K of [2, 10, 1000]) {
    for (const spread of [0, 1e-6, 1, 100]) {
      it(`K = ${K}, spread ${spread}`, () => {
        const B = 3;
        const { z, y } = draw(B, K, spread, K + spread * 13 + 5);
        const ref = ccNllBatch(Float64Array.from(z), Float64Array.from(y), { rows: B, cols: K });
        const wantLoss = ref.loss.reduce((a, b) => a + b, 0) / B;
        const { value, grads } = wtf.valueAndGrads((a: tf.Tensor) => cc(a, wtf.tensor2d(y, [B, K])))([wtf.tensor2d(z, [B, K])]);
        assert.ok(Math.abs(value.dataSync()[0] - wantLoss) <= 1e-5 * Math.max(1, Math.abs(wantLoss)));
        assert.ok(maxRelErr(grads[0].dataSync(), ref.grad.map((g) => g / B)) <= 1e-5);
      });
    }
  }
});
