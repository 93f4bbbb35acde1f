/**
 * Reads a whole little-endian float32 .npy written by the PyTorch worker (its evaluation
 * logits), with the header parser of the label readers.
 */
import { NpyFormatError, parseHeaderDict, parsePreamble } from '../core/labels/npyHeader';

export function readNpyFloat32(bytes: Uint8Array, file: string): Float32Array {
  try {
    const { version, prefix, headerLength } = parsePreamble(bytes);
    const dataOffset = prefix + headerLength;
    const text = new TextDecoder(version.startsWith('3') ? 'utf-8' : 'latin1').decode(bytes.subarray(prefix, dataOffset));
    const h = parseHeaderDict(text, prefix, version, dataOffset);
    if (h.dtype.descr !== '<f4' || h.fortranOrder) {
      throw new NpyFormatError(`expected C-order '<f4', found '${h.dtype.descr}'${h.fortranOrder ? ' (Fortran order)' : ''}`, prefix);
    }
    const n = h.shape.reduce((a, b) => a * b, 1);
    if (bytes.length - dataOffset < n * 4) throw new NpyFormatError(`truncated: ${n} floats need ${n * 4} bytes`, dataOffset);
    // Copy: the data offset need not be 4-aligned within the buffer.
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(dataOffset, dataOffset + n * 4));
    return out;
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
