import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { readIdxFile, type IdxArray } from './idx';
import { checkAborted, type BaseData, type LoadContext } from './common';
import { DATA_SEED, Rng } from './rng';

/** Where Debian's dataset-fashion-mnist puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const CLASSES = 10;

/** The file of one split and kind, by the original release's names, gzipped or not. */
async function findIdx(dir: string, split: 'train' | 't10k', kind: 'images' | 'labels'): Promise<string> {
  const idx = kind === 'images' ? 'idx3' : 'idx1';
  const names = [`${split}-${kind}-${idx}-ubyte`, `${split}-${kind}.${idx}-ubyte`];
  const tried: string[] = [];
  for (const name of names) {
    for (const suffix of ['.gz', '']) {
      const p = join(dir, name + suffix);
      tried.push(name + suffix);
      try {
        await access(p);
        return p;
      } catch {
        // try the next spelling
      }
    }
  }
  const hint = dir === DEBIAN_FASHION_MNIST ? ' (install it with: sudo apt-get install dataset-fashion-mnist)' : '';
  throw new Error(`Fashion-MNIST: no ${split} ${kind} file in ${dir}${hint}; looked for ${tried.join(', ')}`);
}

interface Split {
  images: IdxArray;
  labels: Int32Array;
  h: number;
  w: number;
}

async function loadSplit(dir: string, split: 'train' | 't10k', ctx: LoadContext, at: number): Promise<Split> {
  const imgFile = await findIdx(dir, split, 'images');
  const lblFile = await findIdx(dir, split, 'labels');
  ctx.progress(at, `reading ${imgFile}`);
  const images = await readIdxFile(imgFile, ctx.signal);
  checkAborted(ctx.signal, imgFile);
  const raw = await readIdxFile(lblFile, ctx.signal);
  checkAborted(ctx.signal, lblFile);
  if (images.dtype !== 'uint8' || images.dims.length !== 3) {
    throw new Error(`${imgFile}: expected unsigned-byte images N × H × W, got ${images.dtype} ${images.dims.join(' × ')}`);
  }
  if (raw.dims.length !== 1) throw new Error(`${lblFile}: expected a 1-D array of labels, got ${raw.dims.join(' × ')}`);
  if (raw.dims[0] !== images.dims[0]) {
    throw new Error(`Fashion-MNIST ${split}: ${imgFile} has ${images.dims[0]} images but ${lblFile} has ${raw.dims[0]} labels`);
  }
  const labels = new Int32Array(raw.dims[0]);
  for (let i = 0; i < labels.length; i++) {
    const v = raw.data[i];
    if (!(Number.isInteger(v) && v >= 0 && v < CLASSES)) {
      throw new Error(`${lblFile}: label ${v} of row ${i + 1} is outside 0…${CLASSES - 1}`);
    }
    labels[i] = v;
  }
  return { images, labels, h: images.dims[1], w: images.dims[2] };
}

/**
 * A class-stratified random subset of n rows: each class gets its share of n in proportion
 * to its count (largest remainders break ties in class order), rows drawn at random within
 * the class; the picks are then shuffled so any prefix (the evaluation rows) mixes classes.
 */
export function stratifiedSubset(labels: Int32Array, K: number, n: number, rng: Rng): Int32Array {
  const N = labels.length;
  const byClass: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < N; i++) byClass[labels[i]].push(i);
  const quota = byClass.map((rows) => Math.floor((rows.length * n) / N));
  let left = n - quota.reduce((a, b) => a + b, 0);
  const order = byClass
    .map((rows, k) => ({ k, rem: (rows.length * n) / N - quota[k] }))
    .sort((x, y) => y.rem - x.rem || x.k - y.k);
  for (let j = 0; left > 0; j = (j + 1) % K) {
    const { k } = order[j];
    if (quota[k] < byClass[k].length) {
      quota[k]++;
      left--;
    }
  }
  const out = new Int32Array(n);
  let o = 0;
  for (let k = 0; k < K; k++) {
    const rows = Int32Array.from(byClass[k]);
    // A partial Fisher–Yates: the first quota[k] entries become a uniform random sample.
    for (let i = 0; i < quota[k]; i++) {
      const j = i + rng.int(rows.length - i);
      const t = rows[i];
      rows[i] = rows[j];
      rows[j] = t;
      out[o++] = rows[i];
    }
  }
  return rng.shuffle(out);
}

function gather(s: Split, idx: Int32Array): { x: Float32Array; labels: Int32Array } {
  const D = s.h * s.w;
  const x = new Float32Array(idx.length * D);
  const labels = new Int32Array(idx.length);
  const src = s.images.data as Uint8Array;
  for (let r = 0; r < idx.length; r++) {
    const base = idx[r] * D;
    for (let j = 0; j < D; j++) x[r * D + j] = src[base + j] / 255;
    labels[r] = s.labels[idx[r]];
  }
  return { x, labels };
}

function checkSize(what: string, n: number, available: number): void {
  if (!Number.isInteger(n) || n < 1 || n > available) {
    throw new Error(`Fashion-MNIST: the ${what} subset size must be an integer from 1 to ${available}, got ${n}`);
  }
}

/**
 * Teacher rows for Fashion-MNIST are the full release in file order: the train file's rows,
 * then the test file's (60 000 + 10 000 = 70 000), whatever subset the probe draws; so one
 * teacher file serves every subset size.
 */
export async function loadFashionMnist(spec: { dir?: string; train: number; test: number }, ctx: LoadContext): Promise<BaseData> {
  const dir = spec.dir ?? DEBIAN_FASHION_MNIST;
  const train = await loadSplit(dir, 'train', ctx, 0);
  const test = await loadSplit(dir, 't10k', ctx, 0.45);
  if (train.h !== test.h || train.w !== test.w) {
    throw new Error(`Fashion-MNIST: train images are ${train.h} × ${train.w} but test images ${test.h} × ${test.w}`);
  }
  checkSize('train', spec.train, train.labels.length);
  checkSize('test', spec.test, test.labels.length);
  ctx.progress(0.9, 'drawing the subsets');
  const trainIdx = stratifiedSubset(train.labels, CLASSES, spec.train, new Rng(DATA_SEED, 1));
  const testIdx = stratifiedSubset(test.labels, CLASSES, spec.test, new Rng(DATA_SEED, 2));
  const tr = gather(train, trainIdx);
  const te = gather(test, testIdx);
  const offset = train.labels.length;
  return {
    name: `Fashion-MNIST (${spec.train} train / ${spec.test} test)`,
    description: `Fashion-MNIST from ${dir}: class-stratified random subsets of ${spec.train} of ${train.labels.length} training and ${spec.test} of ${test.labels.length} test images, ${train.h} × ${train.w} grey levels scaled to [0, 1]`,
    inputShape: [train.h, train.w, 1],
    classes: CLASSES,
    trainRows: spec.train,
    testRows: spec.test,
    xTrain: tr.x,
    xTest: te.x,
    labelsTrain: tr.labels,
    labelsTest: te.labels,
    fullRows: offset + test.labels.length,
    fullOrder: 'the train file’s rows, then the test file’s',
    trainIndex: trainIdx,
    testIndex: testIdx.map((i) => i + offset),
  };
}
