import type { NpyDtype } from './npyHeader';

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 binary16 → number (exact: every half is a double). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes `bytes` (a whole number of items of `dtype`) into out[offset + i·stride].
 * Native-order float32/float64 with stride 1 goes through a typed-array view (the common
 * case, and the fast one); everything else through a DataView.
 */
export function decodeInto(bytes: Uint8Array, dtype: NpyDtype, out: Float64Array, offset: number, stride: number): void {
  const n = bytes.length / dtype.size;
  const native = dtype.littleEndian === HOST_LITTLE;
  if (native && stride === 1 && bytes.byteOffset % dtype.size === 0 && dtype.kind === 'f' && dtype.size >= 4) {
    const view = dtype.size === 4 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float64Array(bytes.buffer, bytes.byteOffset, n);
    out.set(view, offset);
    return;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dtype.littleEndian;
  const read = reader(dtype, dv, le);
  for (let i = 0, o = offset; i < n; i++, o += stride) out[o] = read(i * dtype.size);
}

function reader(dtype: NpyDtype, dv: DataView, le: boolean): (at: number) => number {
  switch (`${dtype.kind}${dtype.size}`) {
    case 'f2':
      return (at) => halfToNumber(dv.getUint16(at, le));
    case 'f4':
      return (at) => dv.getFloat32(at, le);
    case 'f8':
      return (at) => dv.getFloat64(at, le);
    case 'i1':
      return (at) => dv.getInt8(at);
    case 'i2':
      return (at) => dv.getInt16(at, le);
    case 'i4':
      return (at) => dv.getInt32(at, le);
    case 'i8':
      return (at) => Number(dv.getBigInt64(at, le));
    case 'u1':
    case 'b1':
      return (at) => dv.getUint8(at);
    case 'u2':
      return (at) => dv.getUint16(at, le);
    case 'u4':
      return (at) => dv.getUint32(at, le);
    case 'u8':
      return (at) => Number(dv.getBigUint64(at, le));
    default:
      throw new Error(`no decoder for ${dtype.descr}`);
  }
}
