import { basename, extname } from 'node:path';
import { FileSource } from '../labels/byteSource';
import { decodeInto } from '../labels/npyDecode';
import { readNpyHeader } from '../labels/npy';
import { openLabels } from '../labels/open';
import { LabelFileError } from '../labels/types';
import { argmaxRows, checkAborted, type BaseData, type LoadContext } from './common';
import { DATA_SEED, Rng } from './rng';

/** Tolerance for target rows on the simplex; rows within it are renormalized in float64. */
export const SIMPLEX_TOLERANCE = 1e-4;

export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
  /** The shape of one row when the file has more than two dimensions (.npy only). */
  rowShape?: number[];
  /** The reader's description; says "integer class labels" for a 1-D integer .npy/.npz. */
  description: string;
  /** 1-based line of each row, for text formats. */
  lines?: Int32Array;
}

/**
 * Reads a whole file through the label readers (any format they open) into one row-major
 * float64 matrix. A .npy with three or more dimensions (N × H × W × C images), which the
 * label readers reject, is read here directly and keeps its row shape.
 */
export async function readMatrix(file: string, ctx: LoadContext, span: [number, number]): Promise<Matrix> {
  if (extname(file).toLowerCase() === '.npy') {
    const nd = await readNdNpy(file);
    if (nd) return nd;
  }
  const src = await openLabels(file, {
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress(span[0] + ((span[1] - span[0]) * done) / Math.max(1, total), `reading ${basename(file)}`),
  });
  const K = src.info.K;
  const parts: Float64Array[] = [];
  const lineParts: Int32Array[] = [];
  let rows = 0;
  for await (const c of src.chunks()) {
    parts.push(c.data);
    if (c.lines) lineParts.push(c.lines);
    rows += c.rows;
  }
  checkAborted(ctx.signal, file);
  const data = new Float64Array(rows * K);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  let lines: Int32Array | undefined;
  if (lineParts.length === parts.length && lineParts.length > 0) {
    lines = new Int32Array(rows);
    let l = 0;
    for (const p of lineParts) {
      lines.set(p, l);
      l += p.length;
    }
  }
  return { rows, cols: K, data, description: src.info.description, ...(lines ? { lines } : {}) };
}

/** A .npy of ≥ 3 dimensions, read whole (C order only); undefined for 1-D and 2-D files. */
async function readNdNpy(file: string): Promise<Matrix | undefined> {
  let src: FileSource;
  try {
    src = await FileSource.open(file);
  } catch {
    return undefined; // let openLabels report the missing file its usual way
  }
  try {
    const h = await readNpyHeader(file, src);
    if (h.shape.length < 3) return undefined;
    if (h.fortranOrder) throw new LabelFileError(file, `a ${h.shape.length}-D array in Fortran order; save it in C order (np.ascontiguousarray)`);
    const [N, ...rest] = h.shape;
    const cols = rest.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(N * cols * h.dtype.size);
    const got = await src.read(bytes, h.dataOffset);
    if (got < bytes.length || src.size !== h.dataOffset + bytes.length) {
      throw new LabelFileError(file, `the header says shape (${h.shape.join(', ')}) of ${h.dtype.descr}, but the file has ${src.size - h.dataOffset} bytes of data, not ${bytes.length}`);
    }
    const data = new Float64Array(N * cols);
    decodeInto(bytes, h.dtype, data, 0, 1);
    return { rows: N, cols, data, rowShape: rest, description: `${h.dtype.descr}, shape (${h.shape.join(', ')})` };
  } finally {
    await src.close();
  }
}

function rowName(m: Matrix, r: number): string {
  return m.lines ? `row ${r + 1} (line ${m.lines[r]})` : `row ${r + 1}`;
}

/** The row shape the models take: [D], or [H, W, C] for images (N × H × W gets C = 1). */
function inputShapeOf(m: Matrix): number[] {
  const s = m.rowShape;
  if (!s || s.length > 3) return [m.cols];
  return s.length === 2 ? [s[0], s[1], 1] : s;
}

/**
 * Targets as soft rows (N × K on the simplex within SIMPLEX_TOLERANCE, renormalized) or as
 * integer class labels (a 1-D integer .npy/.npz, which the label readers hand over as one-hot
 * rows). Labels are the argmax of each row either way; only soft rows give soft targets.
 */
export function parseTargets(file: string, m: Matrix): { labels: Int32Array; soft?: Float64Array } {
  const K = m.cols;
  const labels = argmaxRows(m.data, m.rows, K);
  if (/integer class labels/.test(m.description)) return { labels };
  const soft = new Float64Array(m.data);
  for (let r = 0; r < m.rows; r++) {
    const base = r * K;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const v = soft[base + k];
      if (!Number.isFinite(v)) throw new Error(`${file}: ${rowName(m, r)}, column ${k + 1}: ${String(v)} is not a finite number`);
      if (v < -SIMPLEX_TOLERANCE) throw new Error(`${file}: ${rowName(m, r)}, column ${k + 1}: ${v} is negative; soft targets lie on the simplex`);
      sum += v;
    }
    if (Math.abs(sum - 1) > SIMPLEX_TOLERANCE) {
      throw new Error(`${file}: ${rowName(m, r)} sums to ${sum}, not 1 (tolerance ${SIMPLEX_TOLERANCE}); soft targets lie on the simplex`);
    }
    let s2 = 0;
    for (let k = 0; k < K; k++) s2 += soft[base + k] = Math.max(0, soft[base + k]);
    for (let k = 0; k < K; k++) soft[base + k] /= s2;
  }
  return { labels, soft };
}

function take(src: Float64Array, cols: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * cols);
  for (let r = 0; r < idx.length; r++) out.set(src.subarray(idx[r] * cols, (idx[r] + 1) * cols), r * cols);
  return out;
}

/** Features and targets from files, with a seeded random hold-out of `testFraction`. */
export async function loadFiles(spec: { features: string; targets: string; testFraction: number }, ctx: LoadContext): Promise<BaseData> {
  const f = spec.testFraction;
  if (!(f > 0 && f < 1)) throw new Error(`testFraction must be between 0 and 1 (exclusive), got ${f}`);
  const X = await readMatrix(spec.features, ctx, [0, 0.6]);
  if (/integer class labels/.test(X.description)) {
    throw new Error(`${spec.features}: a 1-D integer array; features must be N × D (or N × H × W × C)`);
  }
  for (let i = 0; i < X.data.length; i++) {
    if (!Number.isFinite(X.data[i])) {
      const r = Math.floor(i / X.cols);
      throw new Error(`${spec.features}: ${rowName(X, r)}, column ${(i % X.cols) + 1}: ${String(X.data[i])} is not a finite number`);
    }
  }
  const Y = await readMatrix(spec.targets, ctx, [0.6, 0.9]);
  if (X.rows !== Y.rows) {
    throw new Error(`the features and targets differ in rows: ${spec.features} has ${X.rows} rows, ${spec.targets} has ${Y.rows}`);
  }
  const N = X.rows;
  if (N < 2) throw new Error(`${spec.features}: ${N} row(s); a probe needs at least 2 (one to train on, one to hold out)`);
  const { labels, soft } = parseTargets(spec.targets, Y);
  const K = Y.cols;
  const nTest = Math.min(N - 1, Math.max(1, Math.round(N * f)));
  const perm = new Rng(DATA_SEED, 5).permutation(N);
  const testIndex = perm.slice(0, nTest);
  const trainIndex = perm.slice(nTest);
  const pick = (idx: Int32Array): Int32Array => idx.map((i) => labels[i]);
  return {
    name: `${basename(spec.features)} / ${basename(spec.targets)} (${trainIndex.length} train / ${nTest} test)`,
    description: `features ${spec.features} (${X.description}); targets ${spec.targets} (${soft ? `soft rows, K = ${K}` : `class labels, K = ${K}`}); a seeded random ${Math.round(f * 100)}% held out`,
    inputShape: inputShapeOf(X),
    classes: K,
    trainRows: trainIndex.length,
    testRows: nTest,
    xTrain: take(X.data, X.cols, trainIndex),
    xTest: take(X.data, X.cols, testIndex),
    labelsTrain: pick(trainIndex),
    labelsTest: pick(testIndex),
    ...(soft ? { softTrain: take(soft, K, trainIndex), softTest: take(soft, K, testIndex) } : {}),
    fullRows: N,
    fullOrder: `the rows of ${basename(spec.features)} in file order`,
    trainIndex,
    testIndex,
  };
}
