import { FileSource, type ByteSource } from './byteSource';
import { NPY_PREAMBLE, NpyFormatError, parseHeaderDict, parsePreamble, type NpyHeader } from './npyHeader';
import { decodeInto } from './npyDecode';
import {
  DEFAULT_CHUNK_ROWS,
  LabelFileError,
  checkCancelled,
  type LabelChunk,
  type LabelSource,
  type ReadOptions,
} from './types';

/**
 * Reads a .npy file of soft labels: shape (N, K) of floats (or ints, or bool), C or Fortran
 * order, any byte order; or a 1-D integer array of class labels, read as one-hot rows with K
 * from `opts.classes` or the largest label + 1. Streams in chunks of at most about 8 MB of
 * output, so memory stays flat in the file's size.
 */
const CHUNK_BYTES = 8 << 20;
/** More classes than this in integer labels is taken for a corrupt file, not a label set. */
export const MAX_CLASSES = 1_000_000;

export async function openNpy(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  const src = await FileSource.open(file);
  try {
    return await npyFromSource(file, src, opts, 'npy');
  } catch (e) {
    await src.close();
    throw e;
  }
}

/** Reads the header from `src` (closed when the chunks are done or fail). */
export async function npyFromSource(
  file: string,
  src: ByteSource,
  opts: ReadOptions,
  format: 'npy' | 'npz',
  name?: string,
): Promise<LabelSource> {
  const header = await readNpyHeader(file, src);
  const where = name ? `${file}[${name}]` : file;
  const { shape, dtype } = header;
  const itemCount = shape.reduce((a, b) => a * b, 1);
  const expected = header.dataOffset + itemCount * dtype.size;
  if (src.size !== expected) {
    const problem = src.size < expected ? 'the data is truncated' : 'there are bytes after the data';
    throw new LabelFileError(
      where,
      `the header says shape (${shape.join(', ')}) of ${dtype.descr}, which is ${expected - header.dataOffset} bytes of data, but ${problem} (${src.size - header.dataOffset} bytes)`,
      { byteOffset: Math.min(src.size, expected) },
    );
  }
  const oneHot = shape.length === 1 && (dtype.kind === 'i' || dtype.kind === 'u');
  if (!oneHot && shape.length !== 2) {
    throw new LabelFileError(
      where,
      shape.length === 1
        ? `a 1-D ${dtype.descr} array of ${shape[0]} values: soft labels are 2-D (N, K); 1-D arrays must hold integer class labels`
        : `shape (${shape.join(', ')}): soft labels are 2-D (N, K)`,
      { byteOffset: 8 },
    );
  }
  const N = shape[0];
  const K = oneHot ? await classCount(where, src, header, opts) : shape[1];
  if (K < 2) throw new LabelFileError(where, `K = ${K}: soft labels need at least 2 classes`, { byteOffset: 8 });
  if (!oneHot && header.fortranOrder && !src.random && K > 1) {
    throw new LabelFileError(where, 'a Fortran-order array inside a compressed .npz cannot be streamed; save it in C order (np.ascontiguousarray)');
  }
  const order = header.fortranOrder && !oneHot ? 'Fortran order' : 'C order';
  const endian = dtype.size === 1 ? '' : dtype.littleEndian ? ' little-endian' : ' big-endian';
  const description = oneHot
    ? `${N} integer class labels (${dtype.descr}) read as one-hot rows, K = ${K}${opts.classes ? ' (given)' : ' (largest label + 1)'}`
    : `${dtype.descr} (${dtype.kind}${dtype.size * 8}${endian}), ${order}, shape (${N}, ${K}), .npy ${header.version}`;
  return {
    info: { format, K, rows: N, description },
    chunks: () => (oneHot ? oneHotChunks(where, src, header, K, opts) : denseChunks(where, src, header, opts)),
  };
}

export async function readNpyHeader(file: string, src: ByteSource): Promise<NpyHeader> {
  const pre = new Uint8Array(NPY_PREAMBLE);
  const got = await src.read(pre.subarray(0, 10), 0);
  try {
    if (got < 10) throw new NpyFormatError(`the file is ${src.size} bytes, too short for a .npy header`, got);
    const first = parsePreamble(pre);
    if (first.prefix === 12 && (await src.read(pre.subarray(10, 12), 10)) < 2) {
      throw new NpyFormatError('the header length is cut off', 10);
    }
    const { version, prefix, headerLength } = parsePreamble(pre);
    const bytes = new Uint8Array(headerLength);
    if ((await src.read(bytes, prefix)) < headerLength) {
      throw new NpyFormatError(`the header says it is ${headerLength} bytes long, but the file ends first`, src.size);
    }
    const text = new TextDecoder(version.startsWith('3') ? 'utf-8' : 'latin1').decode(bytes);
    return parseHeaderDict(text, prefix, version, prefix + headerLength);
  } catch (e) {
    if (e instanceof NpyFormatError) throw new LabelFileError(file, e.message, { byteOffset: e.byteOffset });
    throw e;
  }
}

function rowsPerChunk(K: number, opts: ReadOptions): number {
  return Math.max(1, Math.min(opts.chunkRows ?? DEFAULT_CHUNK_ROWS, Math.floor(CHUNK_BYTES / (8 * K))));
}

async function readExactly(file: string, src: ByteSource, target: Uint8Array, position: number): Promise<void> {
  const got = await src.read(target, position);
  if (got < target.length) throw new LabelFileError(file, 'the data ends early', { byteOffset: position + got });
}

async function* denseChunks(file: string, src: ByteSource, h: NpyHeader, opts: ReadOptions): AsyncGenerator<LabelChunk> {
  const [N, K] = h.shape;
  const size = h.dtype.size;
  const step = rowsPerChunk(K, opts);
  try {
    for (let r0 = 0; r0 < N; r0 += step) {
      checkCancelled(file, opts.signal);
      const rows = Math.min(step, N - r0);
      const data = new Float64Array(rows * K);
      if (!h.fortranOrder) {
        const bytes = new Uint8Array(rows * K * size);
        await readExactly(file, src, bytes, h.dataOffset + r0 * K * size);
        decodeInto(bytes, h.dtype, data, 0, 1);
      } else {
        // Column j of rows r0…r0+rows−1 is contiguous: read each and scatter with stride K.
        const bytes = new Uint8Array(rows * size);
        for (let j = 0; j < K; j++) {
          await readExactly(file, src, bytes, h.dataOffset + (j * N + r0) * size);
          decodeInto(bytes, h.dtype, data, j, K);
        }
      }
      opts.onProgress?.(h.dataOffset + (r0 + rows) * K * size, src.size);
      yield { data, rows, K, firstRow: r0 };
    }
  } finally {
    await src.close();
  }
}

/** Streams the integer labels once to find the largest, unless K is given. */
async function classCount(file: string, src: ByteSource, h: NpyHeader, opts: ReadOptions): Promise<number> {
  if (opts.classes !== undefined) {
    if (!Number.isInteger(opts.classes) || opts.classes < 2 || opts.classes > MAX_CLASSES) {
      throw new LabelFileError(file, `the number of classes must be an integer from 2 to ${MAX_CLASSES}, got ${opts.classes}`);
    }
    return opts.classes;
  }
  if (!src.random) throw new LabelFileError(file, 'integer labels in a compressed .npz need the number of classes (--classes=K)');
  let max = -1;
  for await (const { labels, firstRow } of labelRuns(file, src, h, opts, false)) {
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i];
      if (v < 0) throw new LabelFileError(file, `row ${firstRow + i + 1}: class label ${v} is negative`);
      if (v >= MAX_CLASSES) {
        throw new LabelFileError(file, `row ${firstRow + i + 1}: class label ${v} is beyond ${MAX_CLASSES - 1}; is this file really class labels?`);
      }
      if (v > max) max = v;
    }
  }
  return max + 1;
}

async function* labelRuns(file: string, src: ByteSource, h: NpyHeader, opts: ReadOptions, report: boolean) {
  const N = h.shape[0];
  const size = h.dtype.size;
  const step = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  for (let r0 = 0; r0 < N; r0 += step) {
    checkCancelled(file, opts.signal);
    const rows = Math.min(step, N - r0);
    const bytes = new Uint8Array(rows * size);
    await readExactly(file, src, bytes, h.dataOffset + r0 * size);
    const labels = new Float64Array(rows);
    decodeInto(bytes, h.dtype, labels, 0, 1);
    if (report) opts.onProgress?.(h.dataOffset + (r0 + rows) * size, src.size);
    yield { labels, firstRow: r0 };
  }
}

async function* oneHotChunks(file: string, src: ByteSource, h: NpyHeader, K: number, opts: ReadOptions): AsyncGenerator<LabelChunk> {
  try {
    for await (const { labels, firstRow } of labelRuns(file, src, h, { ...opts, chunkRows: rowsPerChunk(K, opts) }, true)) {
      const data = new Float64Array(labels.length * K);
      for (let i = 0; i < labels.length; i++) {
        const v = labels[i];
        if (v < 0 || v >= K) {
          throw new LabelFileError(file, `row ${firstRow + i + 1}: class label ${v} is outside [0, ${K - 1}]`);
        }
        data[i * K + v] = 1;
      }
      yield { data, rows: labels.length, K, firstRow };
    }
  } finally {
    await src.close();
  }
}
