/**
 * The tfjs-wasm kernels Loss Lens puts faster paths in front of (src/probe/tfjs/wasmPatches.ts),
 * each timed against the wasm kernel it replaces, on the cnn preset's shapes (batch 64,
 * Fashion-MNIST 28×28×1: conv 32, pool, conv 64, pool, dense 3136→128). Medians of 15 calls after
 * a warm-up, output read back (dataSync) in both columns. Last, one whole training step of the
 * cnn preset (Adam, CE) against the same network with its first ReLU as a layer of its own (the
 * former layout, whose fused first conv also computed the data's gradient), same weights,
 * alternating step by step. Correctness is the tests' business (test/unit/tfjsPatches.test.ts);
 * this only times.
 */
import type { NamedAttrMap, NamedTensorInfoMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { initTfjs } from '../src/probe/tfjs/backend';
import { buildPreset } from '../src/probe/tfjs/presets';
import { originalWasmKernel, wasmPatchLimits } from '../src/probe/tfjs/wasmPatches';

const REPS = process.argv.includes('--quick') ? 5 : 15;

async function main(): Promise<void> {
  const rt = await initTfjs('tfjs-wasm');
  const tf = rt.tf;
  const backend = tf.backend();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  /** ms per call of `run`, its output read back and freed. */
  const time = (run: () => number): number => {
    run();
    return median(Array.from({ length: REPS }, run));
  };
  const viaEngine = (name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => (): number => {
    const t0 = performance.now();
    tf.tidy(() => void tf.engine().runKernel<Tensor>(name, inputs as never, attrs).dataSync());
    return performance.now() - t0;
  };
  const viaOriginal = (name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap) => (): number => {
    const k = originalWasmKernel(tf, name);
    if (!k) throw new Error(`${name}: no original wasm kernel behind the patch`);
    const t0 = performance.now();
    const out = k({ inputs, backend, attrs }) as TensorInfo;
    backend.readSync(out.dataId);
    const ms = performance.now() - t0;
    backend.disposeData(out.dataId);
    return ms;
  };
  const rows: [string, number, number][] = [];
  const x1 = tf.randomNormal([64, 28, 28, 32]);
  const x2 = tf.randomNormal([64, 14, 14, 64]);
  for (const [what, x] of [['MaxPoolGrad 2×2, x 64×28×28×32', x1], ['MaxPoolGrad 2×2, x 64×14×14×64', x2]] as const) {
    const y = tf.maxPool(x as never, 2, 2, 'valid');
    const inputs = { dy: tf.onesLike(y), input: x, output: y } as unknown as NamedTensorInfoMap;
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as unknown as NamedAttrMap;
    rows.push([what, time(viaOriginal('MaxPoolGrad', inputs, attrs)), time(viaEngine('MaxPoolGrad', inputs, attrs))]);
  }
  const X = tf.randomNormal([64, 3136]);
  const Wt = tf.randomNormal([3136, 128]);
  const dY = tf.randomNormal([64, 128]);
  for (const [what, a, b, ta, tb] of [
    ['BatchMatMul dX = dY·Wᵀ (64×128 · (3136×128)ᵀ)', dY, Wt, false, true],
    ['BatchMatMul dW = Xᵀ·dY ((64×3136)ᵀ · 64×128)', X, dY, true, false],
  ] as const) {
    const inputs = { a, b } as unknown as NamedTensorInfoMap;
    const attrs = { transposeA: ta, transposeB: tb } as unknown as NamedAttrMap;
    rows.push([what, time(viaOriginal('BatchMatMul', inputs, attrs)), time(viaEngine('BatchMatMul', inputs, attrs))]);
  }
  // The filter gradient: wasm has none; the two patched paths, the transposed-conv one as "before".
  for (const [what, xs, co] of [['Conv2DBackpropFilter 3×3, x 64×28×28×1 → 32', [64, 28, 28, 1], 32], ['Conv2DBackpropFilter 3×3, x 64×14×14×32 → 64', [64, 14, 14, 32], 64]] as const) {
    const x = tf.randomNormal([...xs]);
    const dy = tf.randomNormal([xs[0], xs[1], xs[2], co]);
    const inputs = { x, dy } as unknown as NamedTensorInfoMap;
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, xs[3], co] } as unknown as NamedAttrMap;
    const limit = wasmPatchLimits.im2colMaxEntries;
    wasmPatchLimits.im2colMaxEntries = 0;
    const before = time(viaEngine('Conv2DBackpropFilter', inputs, attrs));
    wasmPatchLimits.im2colMaxEntries = limit;
    rows.push([`${what} (transposed conv → im2col)`, before, time(viaEngine('Conv2DBackpropFilter', inputs, attrs))]);
    tf.dispose([x, dy] as Tensor[]);
  }
  // Identity: the engine's clone of each tensor a gradient saves; wasm's kernel copies the data.
  {
    const x = tf.randomNormal([64, 28, 28, 32]);
    const inputs = { x } as unknown as NamedTensorInfoMap;
    rows.push(['Identity, x 64×28×28×32 (copy → shared data)', time(viaOriginal('Identity', inputs, {})), time(viaEngine('Identity', inputs, {}))]);
    x.dispose();
  }
  // A whole training step: the cnn preset, and the former layout (conv, then a ReLU layer).
  {
    const { model } = buildPreset(rt, 'cnn', { hidden: 128, batchNorm: false, dropout: 0, weightDecay: 0 }, [28, 28, 1], 10, 1);
    const L = tf.layers;
    const former = tf.sequential({
      layers: [
        L.inputLayer({ inputShape: [28, 28, 1] }),
        L.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }),
        L.reLU(),
        L.maxPooling2d({ poolSize: 2, strides: 2 }),
        L.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }),
        L.reLU(),
        L.maxPooling2d({ poolSize: 2, strides: 2 }),
        L.flatten(),
        L.dense({ units: 128 }),
        L.reLU(),
        L.dense({ units: 10 }),
      ],
    });
    former.setWeights(model.getWeights());
    const x = tf.randomNormal([64, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);
    const stepOf = (m: typeof model) => {
      const opt = tf.train.adam(1e-3);
      return (): number => {
        const t0 = performance.now();
        const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy<Tensor, Tensor>(y, m.apply(x, { training: true }) as Tensor) as never, true);
        cost?.dataSync();
        cost?.dispose();
        return performance.now() - t0;
      };
    };
    const [before, after] = [stepOf(former), stepOf(model)];
    before();
    after();
    const tb: number[] = [];
    const ta: number[] = [];
    for (let i = 0; i < REPS; i++) {
      tb.push(before());
      ta.push(after());
    }
    rows.push(['cnn preset training step (first ReLU as a layer → as the conv\'s activation)', median(tb), median(ta)]);
    tf.dispose([x, y] as Tensor[]);
    model.dispose();
    former.dispose();
  }
  process.stdout.write(`\ntfjs-wasm kernels: the wasm kernel (or the earlier path) vs Loss Lens' path, ms per call (median of ${REPS})\n`);
  process.stdout.write(`  ${'kernel'.padEnd(72)} ${'wasm'.padStart(8)} ${'ours'.padStart(8)} ${'speed-up'.padStart(9)}\n`);
  for (const [what, before, after] of rows) {
    process.stdout.write(`  ${what.padEnd(72)} ${before.toFixed(2).padStart(8)} ${after.toFixed(2).padStart(8)} ${`${(before / after).toFixed(2)}×`.padStart(9)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
