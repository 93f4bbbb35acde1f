import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { initTfjs, type TfjsRuntime } from '../../src/probe/tfjs/backend';
import { buildPreset, regularizationLoss } from '../../src/probe/tfjs/presets';
import { PATCHED_KERNELS, wasmPatchLimits } from '../../src/probe/tfjs/wasmPatches';

// The wasm kernels src/probe/tfjs/wasmPatches.ts adds, checked against the cpu backend's own
// kernels on the same random inputs (through the ops' gradients, as training reaches them).

let rt: TfjsRuntime;

/** Deterministic values in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Runs `f` on a backend with tensors built from the same flat inputs; returns flat outputs. */
async function on(backend: string, inputs: { data: Float32Array | Int32Array; shape: number[] }[], f: (...t: Tensor[]) => Tensor[]): Promise<Float32Array[]> {
  const tf = rt.tf;
  assert.ok(await tf.setBackend(backend));
  try {
    return tf.tidy(() => {
      const ts = inputs.map((i) => tf.tensor(i.data, i.shape, i.data instanceof Int32Array ? 'int32' : 'float32'));
      return f(...ts).map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    assert.ok(await tf.setBackend('wasm'));
  }
}

function assertClose(got: Float32Array, want: Float32Array, what: string, rel = 1e-4): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  assert.ok(Number.isFinite(worst), `${what}: non-finite values`);
  assert.ok(worst <= rel * Math.max(scale, 1e-6), `${what}: max |wasm − cpu| = ${worst} against scale ${scale}`);
}

async function compare(inputs: { data: Float32Array | Int32Array; shape: number[] }[], f: (...t: Tensor[]) => Tensor[], what: string): Promise<void> {
  const want = await on('cpu', inputs, f);
  const got = await on('wasm', inputs, f);
  want.forEach((w, i) => assertClose(got[i], w, `${what} output ${i}`));
}

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const CONV_CASES: { x: number[]; k: number; cout: number; stride: number; pad: Pad }[] = [
  { x: [4, 28, 28, 1], k: 3, cout: 32, stride: 1, pad: 'same' }, // the cnn preset's first conv
  { x: [2, 14, 14, 32], k: 3, cout: 64, stride: 1, pad: 'same' }, // … and its second
  { x: [3, 9, 7, 2], k: 3, cout: 4, stride: 2, pad: 'same' },
  { x: [2, 10, 10, 3], k: 3, cout: 5, stride: 2, pad: 'valid' },
  { x: [2, 11, 11, 2], k: 3, cout: 3, stride: 3, pad: 'same' },
  { x: [1, 7, 7, 4], k: 5, cout: 2, stride: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], k: 1, cout: 6, stride: 1, pad: 'valid' },
  { x: [2, 12, 12, 3], k: 7, cout: 8, stride: 2, pad: 'same' }, // a ResNet-style stem
  { x: [2, 9, 9, 2], k: 3, cout: 3, stride: 2, pad: [[0, 0], [1, 2], [2, 1], [0, 0]] },
];

describe('wasm kernel patches (against the cpu backend)', () => {
  before(async () => {
    rt = await initTfjs('tfjs-wasm');
    assert.equal(rt.backend, 'tfjs-wasm');
  });

  it('registers every patched kernel for wasm', () => {
    for (const k of PATCHED_KERNELS) assert.ok(rt.tf.getKernel(k, 'wasm'), `${k} is registered`);
  });

  // Both filter-gradient paths: im2col + one matrix product, and (for inputs too big for that)
  // the forward conv on transposed tensors.
  for (const [n, c] of [...CONV_CASES.map((c) => ({ ...c, im2col: true })), ...CONV_CASES.map((c) => ({ ...c, im2col: false }))].entries()) {
    it(`Conv2DBackpropFilter (${c.im2col ? 'im2col' : 'transposed conv'}): x [${c.x.join('×')}], ${c.k}×${c.k}, stride ${c.stride}, ${typeof c.pad === 'string' ? c.pad : 'explicit'} padding`, async () => {
      const limit = wasmPatchLimits.im2colMaxEntries;
      if (!c.im2col) wasmPatchLimits.im2colMaxEntries = 0;
      try {
        const filterShape = [c.k, c.k, c.x[3], c.cout];
        const x = { data: rand(c.x.reduce((a, b) => a * b), 11 + n), shape: c.x };
        const w = { data: rand(filterShape.reduce((a, b) => a * b), 97 + n), shape: filterShape };
        // The gradient of Σ conv(x, w) ⊙ r wrt w and x: Conv2DBackpropFilter and (wasm's own) …Input.
        await compare([x, w], (xt, wt) => {
          const tf = rt.tf;
          const y = tf.conv2d(xt as Tensor4D, wt as Tensor4D, c.stride, c.pad);
          const r = tf.tensor(rand(y.size, 5 + n), y.shape);
          const g = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad), r)));
          return g([xt, wt]);
        }, 'conv2d gradients');
      } finally {
        wasmPatchLimits.im2colMaxEntries = limit;
      }
    });
  }

  for (const c of [
    { x: [2, 9, 9, 3], k: 3, mult: 1, stride: 1, pad: 'same' as const },
    { x: [2, 10, 10, 4], k: 3, mult: 2, stride: 2, pad: 'same' as const },
    { x: [1, 8, 8, 2], k: 5, mult: 1, stride: 1, pad: 'valid' as const },
  ]) {
    it(`depthwise conv gradients (cpu bridge): x [${c.x.join('×')}], ${c.k}×${c.k}, ×${c.mult}, stride ${c.stride}, ${c.pad}`, async () => {
      const fShape = [c.k, c.k, c.x[3], c.mult];
      const x = { data: rand(c.x.reduce((a, b) => a * b), 3), shape: c.x };
      const w = { data: rand(fShape.reduce((a, b) => a * b), 4), shape: fShape };
      await compare([x, w], (xt, wt) => {
        const tf = rt.tf;
        const y = tf.depthwiseConv2d(xt as Tensor4D, wt as Tensor4D, c.stride, c.pad);
        const r = tf.tensor(rand(y.size, 9), y.shape);
        return tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as Tensor4D, b as Tensor4D, c.stride, c.pad), r)))([xt, wt]);
      }, 'depthwise gradients');
    });
  }

  for (const [n, c] of [
    { a: [5, 7], b: [7, 3] },
    { a: [2, 5, 7], b: [2, 7, 3] },
    { a: [1, 4, 6], b: [3, 6, 2] }, // a broadcast batch (tfjs has no gradient for it: value only)
    { a: [64, 49], b: [49, 10] }, // a dense layer's shapes
  ].entries()) {
    for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
      it(`BatchMatMul with transposeA=${ta}, transposeB=${tb}: [${c.a.join('×')}] · [${c.b.join('×')}]`, async () => {
        const swap = (shape: number[]) => [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];
        const aShape = ta ? swap(c.a) : c.a;
        const bShape = tb ? swap(c.b) : c.b;
        const a = { data: rand(aShape.reduce((x, y) => x * y), 61 + n), shape: aShape };
        const b = { data: rand(bShape.reduce((x, y) => x * y), 71 + n), shape: bShape };
        await compare([a, b], (at, bt) => {
          const tf = rt.tf;
          const y = tf.matMul(at, bt, ta, tb);
          const r = tf.tensor(rand(y.size, 81 + n), y.shape);
          if (c.a[0] !== c.b[0] && c.a.length === 3) return [y];
          // The gradients are BatchMatMuls with transposed operands again.
          return [y, ...tf.grads((p: Tensor, q: Tensor) => tf.sum(tf.mul(tf.matMul(p, q, ta, tb), r)))([at, bt])];
        }, 'matMul');
      });
    }
  }

  for (const [n, c] of [
    { x: [2, 28, 28, 3], k: 2, stride: 2, pad: 'valid' as const, what: 'the cnn preset’s pools' },
    { x: [2, 9, 7, 3], k: 2, stride: 2, pad: 'valid' as const, what: 'odd sizes: the last row and column are in no window' },
    { x: [2, 9, 9, 2], k: 3, stride: 2, pad: 'same' as const, what: 'overlapping, padded windows' },
    { x: [1, 8, 8, 2], k: 2, stride: 1, pad: 'valid' as const, what: 'stride 1' },
  ].entries()) {
    for (const ties of [false, true]) {
      it(`MaxPoolGrad: x [${c.x.join('×')}], ${c.k}×${c.k}, stride ${c.stride}, ${c.pad} (${c.what})${ties ? ', with ties (ReLU zeros, repeated values)' : ''}`, async () => {
        const size = c.x.reduce((a, b) => a * b);
        const data = rand(size, 51 + n);
        // Ties: a ReLU's zeros and values on a coarse grid; the gradient goes to the first of equals.
        if (ties) for (let i = 0; i < size; i++) data[i] = Math.max(0, Math.round(data[i] * 2) / 2);
        await compare([{ data, shape: c.x }], (xt) => {
          const tf = rt.tf;
          const y = tf.maxPool(xt as Tensor4D, c.k, c.stride, c.pad);
          const r = tf.tensor(rand(y.size, 91 + n), y.shape);
          return tf.grads((a: Tensor) => tf.sum(tf.mul(tf.maxPool(a as Tensor4D, c.k, c.stride, c.pad), r)))([xt]);
        }, 'maxPool gradient');
      });
    }
  }

  it('MaxPoolGrad: a window of -Infinity passes nothing, like the cpu kernel', async () => {
    const data = rand(1 * 4 * 4 * 1, 7);
    for (const i of [0, 1, 4, 5]) data[i] = -Infinity; // the first 2×2 window
    await compare([{ data, shape: [1, 4, 4, 1] }], (xt) => {
      const tf = rt.tf;
      return tf.grads((a: Tensor) => tf.sum(tf.maxPool(a as Tensor4D, 2, 2, 'valid')))([xt]);
    }, 'maxPool gradient');
  });

  it('UnsortedSegmentSum (cpu bridge), and the gather gradient that uses it (Embedding layers)', async () => {
    const ids = { data: Int32Array.from([3, 0, 3, 1, 4, 0, 2]), shape: [7] };
    const x = { data: rand(7 * 5, 21), shape: [7, 5] };
    const table = { data: rand(6 * 5, 22), shape: [6, 5] };
    await compare([x, ids], (xt, it) => [rt.tf.unsortedSegmentSum(xt, it as never, 6)], 'unsortedSegmentSum');
    await compare([table, ids], (tt, it) => rt.tf.grads((t: Tensor) => rt.tf.sum(rt.tf.square(rt.tf.gather(t, it))))([tt]), 'gather gradient');
  });

  it('Einsum (cpu bridge)', async () => {
    const a = { data: rand(3 * 4, 31), shape: [3, 4] };
    const b = { data: rand(4 * 5, 32), shape: [4, 5] };
    await compare([a, b], (at, bt) => [rt.tf.einsum('ij,jk->ik', at, bt)], 'einsum');
  });

  it('Identity (the engine’s clone of every tensor a gradient saves) shares the data: both live and equal until both are disposed', () => {
    const tf = rt.tf;
    const x = tf.tensor(rand(6, 13), [2, 3]);
    const y = tf.engine().runKernel<Tensor>('Identity', { x });
    assert.equal(y.dataId, x.dataId, 'the same data, not a copy');
    assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()));
    const want = Array.from(x.dataSync());
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), want, 'the clone survives the original');
    const z = tf.add(y, 1);
    y.dispose();
    assert.deepEqual(Array.from(z.dataSync()), want.map((v) => Math.fround(v + 1)));
    z.dispose();
    const s = tf.tensor(['a', 'b']);
    const sc = tf.engine().runKernel<Tensor>('Identity', { x: s });
    assert.deepEqual(sc.arraySync(), ['a', 'b'], 'strings take wasm’s own copy');
    tf.dispose([s, sc]);
  });

  it('the presets without BatchNorm fuse the first ReLU into the first layer: the same function, and no gradient for the data', async () => {
    const tf = rt.tf;
    const { model } = buildPreset(rt, 'cnn', { hidden: 16, batchNorm: false, dropout: 0, weightDecay: 0 }, [12, 12, 1], 10, 3);
    assert.equal(model.layers.find((l) => l.getClassName() === 'Conv2D')?.getConfig().activation, 'relu');
    // The same network with the ReLU as a layer of its own (the former layout), same weights.
    const plain = tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: [12, 12, 1] }),
        tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }),
        tf.layers.reLU(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }),
        tf.layers.reLU(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 16 }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 10 }),
      ],
    });
    plain.setWeights(model.getWeights());
    const x = tf.tensor(rand(4 * 12 * 12, 17), [4, 12, 12, 1]);
    const y = tf.oneHot(tf.tensor1d([1, 3, 5, 7], 'int32'), 10);
    const gradsOf = (m: typeof model) => {
      const vars = m.trainableWeights.map((w) => w.read() as never);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy<Tensor, Tensor>(y, m.apply(x, { training: true }) as Tensor) as never, vars);
      const out = [value.dataSync()[0], ...vars.map((v: { name: string }) => grads[v.name].dataSync() as Float32Array)];
      tf.dispose([value, ...Object.values(grads)]);
      return out as [number, ...Float32Array[]];
    };
    const [l1, ...g1] = gradsOf(model);
    const [l2, ...g2] = gradsOf(plain);
    assert.ok(Math.abs(l1 - l2) <= 1e-6 * Math.abs(l2), `loss ${l1} vs ${l2}`);
    g1.forEach((g, i) => assertClose(g, g2[i], `gradient ${i}`, 1e-5));
    // One training step's kernels: the second conv's input gradient, not the first's.
    const vars = model.trainableWeights.map((w) => w.read() as never);
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy<Tensor, Tensor>(y, model.apply(x, { training: true }) as Tensor) as never, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const inputGrads = profile.kernels.filter((k) => k.name === 'Conv2DBackpropInput').map((k) => JSON.stringify(k.outputShapes));
    assert.deepEqual(inputGrads, [JSON.stringify([[4, 6, 6, 32]])], 'only the second conv’s input gradient');
    tf.dispose([x, y]);
    model.dispose();
    plain.dispose();
  });

  it('the cnn preset with BatchNorm and dropout trains 5 steps on wasm (finite, decreasing loss)', () => {
    const tf = rt.tf;
    assert.equal(tf.getBackend(), 'wasm');
    const { model } = buildPreset(rt, 'cnn', { hidden: 32, batchNorm: true, dropout: 0.25, weightDecay: 1e-4 }, [28, 28, 1], 10, 1);
    const x = tf.tensor(rand(16 * 28 * 28, 41), [16, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10);
    const opt = tf.train.adam(3e-3);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const loss = opt.minimize(() => {
        const logits = model.apply(x, { training: true }) as Tensor;
        const ce = tf.losses.softmaxCrossEntropy(y, logits);
        const reg = regularizationLoss(rt, model);
        return (reg ? tf.add(ce, reg) : ce) as never;
      }, true);
      losses.push(loss!.dataSync()[0]);
      loss!.dispose();
    }
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    assert.ok(losses[4] < losses[0], `loss went from ${losses[0]} to ${losses[4]}`);
    model.dispose();
    tf.dispose([x, y]);
  });
});
