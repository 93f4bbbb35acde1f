import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

/**
 * The idx format of MNIST and Fashion-MNIST (LeCun's page): two zero bytes, a dtype code, the
 * number of dimensions, then each dimension as a big-endian uint32, then the data in C order,
 * big-endian. Files may be gzipped (detected by the gzip magic, not by the name, because the
 * original release and its mirrors disagree on which files keep the .gz).
 */
export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  /** The values, in C order; uint8 data stays a Uint8Array (images are 47 MB as numbers). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const DTYPES: Record<number, { name: IdxDtype; size: number }> = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

/** An idx file that cannot be read; the message starts with the file's name. */
export class IdxFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'IdxFormatError';
  }
}

const gunzipAsync = promisify(gunzip);

export async function readIdxFile(file: string, signal?: AbortSignal): Promise<IdxArray> {
  let bytes: Uint8Array = await readFile(file, signal ? { signal } : {});
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      throw new IdxFormatError(file, `the gzip stream is corrupt or truncated (${(e as Error).message})`);
    }
  }
  return parseIdx(file, bytes);
}

/** Parses an idx file's bytes (already decompressed). */
export function parseIdx(file: string, bytes: Uint8Array): IdxArray {
  if (bytes.length < 4) throw new IdxFormatError(file, `the file is ${bytes.length} bytes, too short for an idx header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new IdxFormatError(file, `bad magic: an idx file starts with two zero bytes, this one with ${hex}`);
  }
  const dtype = DTYPES[bytes[2]];
  if (!dtype) throw new IdxFormatError(file, `unknown idx dtype code 0x${bytes[2].toString(16).padStart(2, '0')} (known: 08 09 0b 0c 0d 0e)`);
  const nd = bytes[3];
  if (nd === 0) throw new IdxFormatError(file, 'the header declares 0 dimensions');
  const dataOffset = 4 + 4 * nd;
  if (bytes.length < dataOffset) throw new IdxFormatError(file, `truncated header: ${nd} dimensions need ${dataOffset} bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = dataOffset + count * dtype.size;
  if (bytes.length < expected) {
    throw new IdxFormatError(
      file,
      `truncated: the header says ${dims.join(' × ')} ${dtype.name} values (${expected} bytes with the header), but the file has ${bytes.length} bytes`,
    );
  }
  if (bytes.length > expected) {
    throw new IdxFormatError(file, `${bytes.length - expected} bytes after the ${dims.join(' × ')} ${dtype.name} values the header declares`);
  }
  return { dtype: dtype.name, dims, data: decode(view, dataOffset, count, dtype.name, bytes) };
}

function decode(view: DataView, off: number, n: number, dtype: IdxDtype, bytes: Uint8Array): IdxArray['data'] {
  switch (dtype) {
    // Copies: a Node Buffer's slice() is a view that would keep (and, for .buffer, expose)
    // the whole file.
    case 'uint8':
      return new Uint8Array(bytes.subarray(off, off + n));
    case 'int8':
      return new Int8Array(new Uint8Array(bytes.subarray(off, off + n)).buffer);
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(off + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(off + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(off + 8 * i, false);
      return out;
    }
  }
}
