import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset, targetsFor, isCancelled, type ProbeDataset } from '../../src/core/probe/data';
import { DEBIAN_FASHION_MNIST } from '../../src/core/probe/fashionMnist';
import { readIdxFile } from '../../src/core/probe/idx';
import { Rng } from '../../src/core/probe/rng';
import { assertClose } from './helpers';

const FIX = join(__dirname, '..', 'fixtures', 'probe');
const idxValues = JSON.parse(readFileSync(join(FIX, 'idx_values.json'), 'utf8')) as {
  trainLabels: number[];
  testLabels: number[];
  trainImages: number[][];
  testImages: number[][];
  int16: number[];
  float32: number[];
  float64: number[];
  int32: number[];
  int8: number[];
};
const fileValues = JSON.parse(readFileSync(join(FIX, 'files', 'values.json'), 'utf8')) as {
  N: number;
  D: number;
  K: number;
  features: number[][];
  soft: number[][];
  labels: number[];
  images: number[][];
  logits: number[][];
};
const T1 = { temperature: 1 };

function rowSums(a: Float32Array, K: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / K; r++) out.push(a.subarray(r * K, (r + 1) * K).reduce((s, v) => s + v, 0));
  return out;
}

/** The index of each row of `x` (rows × D) among `rows`, matched exactly; -1 if absent. */
function locate(x: Float32Array, D: number, rows: number[][]): number[] {
  const key = (v: ArrayLike<number>): string => Array.from(v, (u) => Math.fround(u)).join(',');
  const where = new Map(rows.map((r, i) => [key(r), i]));
  const out: number[] = [];
  for (let r = 0; r < x.length / D; r++) out.push(where.get(key(x.subarray(r * D, (r + 1) * D))) ?? -1);
  return out;
}

describe('rng', () => {
  it('is deterministic, and its normals have mean 0 and variance 1', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    for (let i = 0; i < 100; i++) assert.equal(a.nextU32(), b.nextU32());
    assert.notEqual(new Rng(5, 1).nextU32(), new Rng(5, 2).nextU32());
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    assertClose(s / n, 0, 0.02, 'normal mean');
    assertClose(s2 / n, 1, 0.02, 'normal variance');
    const p = new Rng(3).permutation(1000);
    assert.deepEqual(Array.from(p).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('idx reader', () => {
  it('reads every dtype big-endian, gzipped or not', async () => {
    const int16 = await readIdxFile(join(FIX, 'single', 'int16.idx'));
    assert.deepEqual({ dtype: int16.dtype, dims: int16.dims }, { dtype: 'int16', dims: [2, 3] });
    assert.deepEqual(Array.from(int16.data), idxValues.int16);
    const f32 = await readIdxFile(join(FIX, 'single', 'float32.idx.gz'));
    assert.deepEqual(Array.from(f32.data), idxValues.float32);
    const f64 = await readIdxFile(join(FIX, 'single', 'float64.idx'));
    assert.deepEqual(f64.dims, [2, 1, 1]);
    assert.deepEqual(Array.from(f64.data), idxValues.float64);
    assert.deepEqual(Array.from((await readIdxFile(join(FIX, 'single', 'int32.idx'))).data), idxValues.int32);
    assert.deepEqual(Array.from((await readIdxFile(join(FIX, 'single', 'int8.idx'))).data), idxValues.int8);
    const raw = await readIdxFile(join(FIX, 'idx_raw', 'train-images-idx3-ubyte'));
    const gz = await readIdxFile(join(FIX, 'idx_gz', 'train-images-idx3-ubyte.gz'));
    assert.deepEqual(raw.dims, [40, 5, 3]);
    assert.deepEqual(Array.from(raw.data), idxValues.trainImages.flat());
    assert.deepEqual(gz, raw);
  });
  it('names the file and the problem for broken files', async () => {
    const cases: [string, RegExp][] = [
      ['truncated.idx', /truncated\.idx: truncated: the header says 3 × 5 × 3 uint8 values \(61 bytes with the header\), but the file has 56 bytes/],
      ['truncated_header.idx', /truncated_header\.idx: truncated header: 3 dimensions need 16 bytes, the file has 9/],
      ['bad_magic.idx', /bad_magic\.idx: bad magic: an idx file starts with two zero bytes, this one with 01 00 08 03/],
      ['bad_dtype.idx', /bad_dtype\.idx: unknown idx dtype code 0x0a/],
      ['trailing.idx', /trailing\.idx: 2 bytes after the 3 × 5 × 3 uint8 values/],
      ['corrupt.idx.gz', /corrupt\.idx\.gz: the gzip stream is corrupt or truncated/],
    ];
    for (const [file, re] of cases) await assert.rejects(readIdxFile(join(FIX, 'single', file)), re, file);
  });
});

describe('fashion-mnist data', () => {
  it('loads a folder of idx files, gzipped or raw, as the same stratified subsets', async () => {
    const spec = { kind: 'fashion-mnist' as const, train: 20, test: 10 };
    const gz = await loadDataset({ ...spec, dir: join(FIX, 'idx_gz') }, T1);
    const raw = await loadDataset({ ...spec, dir: join(FIX, 'idx_raw') }, T1);
    assert.deepEqual(gz.labelsTrain, raw.labelsTrain);
    assert.deepEqual(gz.xTrain, raw.xTrain);
    assert.deepEqual(gz.inputShape, [5, 3, 1]);
    assert.equal(gz.softTrain, undefined);
    // 4 per class in 40 → 2 per class in 20; 2 per class in 20 → 1 per class in 10.
    const count = (l: Int32Array): number[] => Array.from({ length: 10 }, (_, k) => l.filter((v) => v === k).length);
    assert.deepEqual(count(gz.labelsTrain), new Array<number>(10).fill(2));
    assert.deepEqual(count(gz.labelsTest), new Array<number>(10).fill(1));
    // Each row is a pixel-exact /255 copy of its source image, with that image's label.
    const src = idxValues.trainImages.map((r) => r.map((v) => v / 255));
    const at = locate(gz.xTrain, 15, src);
    assert.ok(at.every((i) => i >= 0), 'every train row is a source image');
    assert.equal(new Set(at).size, 20, 'no image twice');
    at.forEach((i, r) => assert.equal(gz.labelsTrain[r], idxValues.trainLabels[i], `label of row ${r}`));
  });
  it('reports a label/image count mismatch and labels out of range, naming the files', async () => {
    await assert.rejects(
      loadDataset({ kind: 'fashion-mnist', dir: join(FIX, 'idx_mismatch'), train: 10, test: 5 }, T1),
      /train-images-idx3-ubyte has 40 images but .*train-labels-idx1-ubyte has 39 labels/,
    );
    await assert.rejects(
      loadDataset({ kind: 'fashion-mnist', dir: join(FIX, 'idx_badlabel'), train: 10, test: 5 }, T1),
      /t10k-labels-idx1-ubyte: label 12 of row 7 is outside 0…9/,
    );
    await assert.rejects(loadDataset({ kind: 'fashion-mnist', dir: FIX, train: 10, test: 5 }, T1), /no train images file in .*looked for train-images-idx3-ubyte\.gz/);
    await assert.rejects(loadDataset({ kind: 'fashion-mnist', dir: join(FIX, 'idx_raw'), train: 41, test: 5 }, T1), /train subset size must be an integer from 1 to 40, got 41/);
  });
  it('Debian’s dataset-fashion-mnist loads: 60 000 + 10 000 images of 28 × 28, labels 0–9', async () => {
    assert.ok(
      existsSync(join(DEBIAN_FASHION_MNIST, 'train-images-idx3-ubyte.gz')),
      `${DEBIAN_FASHION_MNIST} is missing: install Debian's dataset-fashion-mnist (sudo apt-get install dataset-fashion-mnist)`,
    );
    for (const [split, n] of [['train', 60000], ['t10k', 10000]] as const) {
      const img = await readIdxFile(join(DEBIAN_FASHION_MNIST, `${split}-images-idx3-ubyte.gz`));
      const lbl = await readIdxFile(join(DEBIAN_FASHION_MNIST, `${split}-labels-idx1-ubyte.gz`));
      assert.deepEqual(img.dims, [n, 28, 28]);
      assert.deepEqual(lbl.dims, [n]);
      const counts = new Array<number>(10).fill(0);
      for (const v of lbl.data) counts[v]++;
      assert.deepEqual(counts, new Array<number>(10).fill(n / 10), `${split}: the release has exactly ${n / 10} images per class`);
    }
    const t0 = performance.now();
    const fractions: number[] = [];
    const ds = await loadDataset({ kind: 'fashion-mnist', train: 2000, test: 500 }, { temperature: 1, onProgress: (f) => fractions.push(f) });
    const ms = performance.now() - t0;
    console.log(`# Fashion-MNIST 2000/500 loaded in ${ms.toFixed(0)} ms`);
    assert.equal(ds.xTrain.length, 2000 * 784);
    assert.equal(ds.xTest.length, 500 * 784);
    assert.deepEqual(ds.inputShape, [28, 28, 1]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.xTrain) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    assert.deepEqual([lo, hi], [0, 1]);
    assert.ok(fractions.length > 2 && fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1])), 'progress rises from 0 to 1');
    assert.equal(fractions.at(-1), 1);
    const again = await loadDataset({ kind: 'fashion-mnist', train: 2000, test: 500 }, T1);
    assert.deepEqual(again.labelsTest, ds.labelsTest, 'the same subset every time');
    assert.deepEqual(Array.from({ length: 10 }, (_, k) => ds.labelsTrain.filter((v) => v === k).length), new Array<number>(10).fill(200));
  });
  it('a teacher file must have one row per image of the full set (train file, then test file)', async () => {
    const dir = join(FIX, 'idx_raw');
    await assert.rejects(
      loadDataset({ kind: 'fashion-mnist', dir, train: 10, test: 5 }, { temperature: 1, teacher: join(FIX, 'files', 'teacher.npy') }),
      /teacher\.npy has 50 rows of teacher logits, but Fashion-MNIST \(10 train \/ 5 test\) has 60 rows in its full set; .*the train file’s rows, then the test file’s/,
    );
  });
  it('cancels through the signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(loadDataset({ kind: 'fashion-mnist', dir: join(FIX, 'idx_gz'), train: 10, test: 5 }, { temperature: 1, signal: ac.signal }), (e) => isCancelled(e));
    await assert.rejects(loadDataset({ kind: 'synthetic', classes: 3, features: 2, train: 10, test: 5 }, { temperature: 1, signal: ac.signal }), (e) => isCancelled(e));
  });
});

describe('synthetic data', () => {
  const spec = { kind: 'synthetic' as const, classes: 5, features: 8, train: 300, test: 100 };
  it('is the same on every call, soft rows on the simplex, labels their argmax', async () => {
    const a = await loadDataset(spec, { temperature: 2 });
    const b = await loadDataset(spec, { temperature: 2 });
    assert.deepEqual(a, b);
    assert.deepEqual(a.inputShape, [8]);
    for (const [soft, labels] of [[a.softTrain!, a.labelsTrain], [a.softTest!, a.labelsTest]] as const) {
      rowSums(soft, 5).forEach((s, r) => assertClose(s, 1, 1e-6, `row ${r} sum`));
      assert.ok(soft.every((v) => v >= 0));
      for (let r = 0; r < labels.length; r++) {
        const row = Array.from(soft.subarray(r * 5, r * 5 + 5));
        assert.equal(labels[r], row.indexOf(Math.max(...row)), `row ${r}`);
      }
    }
    const count = Array.from({ length: 5 }, (_, k) => a.labelsTrain.filter((v) => v === k).length);
    assert.ok(count.every((c) => c > 20), `every class occurs: ${count.join(', ')}`);
  });
  it('the temperature changes the soft targets, not the features or the labels', async () => {
    const t1 = await loadDataset(spec, T1);
    const t4 = await loadDataset(spec, { temperature: 4 });
    assert.deepEqual(t1.xTrain, t4.xTrain);
    assert.deepEqual(t1.labelsTrain, t4.labelsTrain);
    const maxOf = (d: ProbeDataset): number => d.softTrain!.reduce((m, v) => Math.max(m, v), 0);
    assert.ok(maxOf(t4) < maxOf(t1), 'a higher temperature gives softer rows');
  });
  it('rejects bad sizes', async () => {
    await assert.rejects(loadDataset({ ...spec, classes: 1 }, T1), /classes must be an integer ≥ 2, got 1/);
    await assert.rejects(loadDataset(spec, { temperature: 0 }), /temperature must be a positive number, got 0/);
  });
});

describe('files data', () => {
  const F = (name: string): string => join(FIX, 'files', name);
  const { N, D, K } = fileValues;
  it('soft targets from .npy: rows stay paired with their features, the split is seeded', async () => {
    const ds = await loadDataset({ kind: 'files', features: F('features.npy'), targets: F('soft.npy'), testFraction: 0.2 }, T1);
    assert.deepEqual([ds.trainRows, ds.testRows, ds.classes], [40, 10, K]);
    assert.deepEqual(ds.inputShape, [D]);
    const tr = locate(ds.xTrain, D, fileValues.features);
    const te = locate(ds.xTest, D, fileValues.features);
    assert.deepEqual([...tr, ...te].sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i), 'a partition of the rows');
    tr.forEach((i, r) => {
      for (let k = 0; k < K; k++) assertClose(ds.softTrain![r * K + k], fileValues.soft[i][k], 1e-7, `soft ${r},${k}`);
      const row = fileValues.soft[i];
      assert.equal(ds.labelsTrain[r], row.indexOf(Math.max(...row)));
    });
    const again = await loadDataset({ kind: 'files', features: F('features.npy'), targets: F('soft.csv'), testFraction: 0.2 }, T1);
    assert.deepEqual(again.xTest, ds.xTest, 'the same hold-out for the .csv of the same targets');
    assert.deepEqual(again.labelsTest, ds.labelsTest);
  });
  it('integer labels (1-D int .npy) give labels and no soft targets', async () => {
    const ds = await loadDataset({ kind: 'files', features: F('features.npy'), targets: F('labels.npy'), testFraction: 0.3 }, T1);
    assert.equal(ds.softTrain, undefined);
    assert.equal(ds.classes, 4);
    locate(ds.xTrain, D, fileValues.features).forEach((i, r) => assert.equal(ds.labelsTrain[r], fileValues.labels[i]));
    assert.throws(() => targetsFor(ds, 'soft', 'train', 0.1), /no soft targets; the losses soft-ce and cc train on soft targets.*teacher/);
  });
  it('a teacher gives softmax(logits / T) of the matching rows', async () => {
    const T = 2.5;
    const ds = await loadDataset({ kind: 'files', features: F('features.npy'), targets: F('labels.npy'), testFraction: 0.3 }, { temperature: T, teacher: F('teacher.npy') });
    const at = locate(ds.xTest, D, fileValues.features);
    at.forEach((i, r) => {
      const z = fileValues.logits[i].map((v) => v / T);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) assertClose(ds.softTest![r * K + k], e[k] / s, 1e-7, `teacher soft ${r},${k}`);
      assert.equal(ds.labelsTest[r], fileValues.labels[i], 'labels stay the ground truth');
    });
  });
  it('N × H × W × C features keep their shape', async () => {
    const ds = await loadDataset({ kind: 'files', features: F('images.npy'), targets: F('soft.npy'), testFraction: 0.2 }, T1);
    assert.deepEqual(ds.inputShape, [4, 3, 2]);
    assert.ok(locate(ds.xTrain, 24, fileValues.images).every((i) => i >= 0));
  });
  it('errors name the files and the rows', async () => {
    const load = (targets: string, features = 'features.npy') => loadDataset({ kind: 'files', features: F(features), targets: F(targets), testFraction: 0.2 }, T1);
    await assert.rejects(load('soft_short.npy'), /features\.npy has 50 rows, .*soft_short\.npy has 49/);
    await assert.rejects(load('off_simplex.csv'), /off_simplex\.csv: row 7 \(line 8\) sums to 1\.01\d*, not 1/);
    await assert.rejects(load('negative.npy'), /negative\.npy: row 10, column 3: -0\.25 is negative/);
    await assert.rejects(load('soft.npy', 'labels.npy'), /labels\.npy: a 1-D integer array; features must be N × D/);
    await assert.rejects(load('missing.npy'), /missing\.npy: no such file/);
  });
});

describe('targetsFor', () => {
  it('one-hot, label smoothing and soft rows', async () => {
    const ds = await loadDataset({ kind: 'synthetic', classes: 4, features: 3, train: 20, test: 10 }, T1);
    const oh = targetsFor(ds, 'onehot', 'train', 0.1);
    const ls = targetsFor(ds, 'ls', 'test', 0.1);
    for (let r = 0; r < 20; r++) {
      for (let k = 0; k < 4; k++) assert.equal(oh[r * 4 + k], k === ds.labelsTrain[r] ? 1 : 0);
    }
    for (let r = 0; r < 10; r++) {
      for (let k = 0; k < 4; k++) assert.equal(ls[r * 4 + k], Math.fround(k === ds.labelsTest[r] ? 0.9 + 0.025 : 0.025));
    }
    assert.equal(targetsFor(ds, 'soft', 'test', 0.1), ds.softTest);
    assert.throws(() => targetsFor(ds, 'ls', 'train', 1.5), /α must be in \[0, 1\], got 1\.5/);
  });
});
