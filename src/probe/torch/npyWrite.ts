/**
 * Writes a .npy file (format 1.0) that numpy and the PyTorch worker read: little-endian,
 * C order, float32 ('<f4') or int32 ('<i4').
 */
import { writeFileSync } from 'node:fs';

/** The bytes of a .npy file holding `data` with `shape`. */
export function encodeNpy(data: Float32Array | Int32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`writeNpy: bad shape [${shape.join(', ')}]`);
  if (count !== data.length) throw new Error(`writeNpy: shape [${shape.join(', ')}] holds ${count} values, the data has ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  // A 1-tuple needs its trailing comma in Python syntax: (5,).
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and ended by a
  // newline so that the data starts on a 64-byte boundary, as numpy does.
  const unpadded = 10 + dict.length + 1;
  const headerLen = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  if (headerLen > 0xffff) throw new Error('writeNpy: the shape is too long for a version 1.0 header');
  const out = new Uint8Array(10 + headerLen + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  const view = new DataView(out.buffer);
  view.setUint16(8, headerLen, true);
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + headerLen;
  // Explicit little-endian writes: correct on any host byte order.
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(base + 4 * i, data[i], true);
  else for (let i = 0; i < data.length; i++) view.setInt32(base + 4 * i, data[i], true);
  return out;
}

export function writeNpy(path: string, data: Float32Array | Int32Array, shape: number[]): void {
  writeFileSync(path, encodeNpy(data, shape));
}
