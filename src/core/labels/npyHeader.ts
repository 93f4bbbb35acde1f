/**
 * The header of numpy's .npy format, versions 1.0, 2.0 and 3.0:
 *   \x93NUMPY, major, minor, header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then a
 *   Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, K), } in latin-1
 *   (1.0/2.0) or UTF-8 (3.0), padded with spaces and a newline.
 */
export interface NpyDtype {
  kind: 'f' | 'i' | 'u' | 'b';
  size: number;
  littleEndian: boolean;
  /** As written in the header, e.g. "<f4". */
  descr: string;
}

export interface NpyHeader {
  version: string;
  dtype: NpyDtype;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

export class NpyFormatError extends Error {
  constructor(
    message: string,
    readonly byteOffset: number,
  ) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
export const NPY_PREAMBLE = 12; // enough for magic, version and either length field

/** The header's length field: returns the data offset's prefix size and the dict's length. */
export function parsePreamble(bytes: Uint8Array): { version: string; prefix: number; headerLength: number } {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new NpyFormatError(`not a .npy file: the magic string \\x93NUMPY is missing (byte ${i} is 0x${(bytes[i] ?? 0).toString(16).padStart(2, '0')})`, i);
    }
  }
  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return { version: `1.${minor}`, prefix: 10, headerLength: view.getUint16(8, true) };
  if (major === 2 || major === 3) return { version: `${major}.${minor}`, prefix: 12, headerLength: view.getUint32(8, true) };
  throw new NpyFormatError(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are supported)`, 6);
}

const DESCR = /^([<>|=])([fiub])(\d+)$/;

function parseDtype(descr: string, at: number): NpyDtype {
  const m = DESCR.exec(descr);
  if (!m) {
    throw new NpyFormatError(
      `unsupported dtype '${descr}': soft labels must be float16/32/64, integers or bool (structured and complex dtypes are not supported)`,
      at,
    );
  }
  const kind = m[2] as NpyDtype['kind'];
  const size = Number(m[3]);
  const ok = kind === 'f' ? [2, 4, 8].includes(size) : kind === 'b' ? size === 1 : [1, 2, 4, 8].includes(size);
  if (!ok) throw new NpyFormatError(`unsupported dtype '${descr}' (${kind}${size * 8})`, at);
  // '=' is native order; numpy writes '<' or '>' in files, but accept '=' as little-endian.
  return { kind, size, littleEndian: m[1] !== '>', descr };
}

/** Parses the dict literal. `at` is the header's byte offset, for error positions. */
export function parseHeaderDict(text: string, at: number, version: string, dataOffset: number): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) {
    const missing = [!descr && 'descr', !fortran && 'fortran_order', !shape && 'shape'].filter(Boolean).join(', ');
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new NpyFormatError('structured dtypes (records with named fields) are not supported', at);
    }
    throw new NpyFormatError(`malformed .npy header: no ${missing} in ${JSON.stringify(text.trim().slice(0, 120))}`, at);
  }
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s !== '');
  const parsed = dims.map((d) => {
    if (!/^\d+$/.test(d)) throw new NpyFormatError(`malformed shape (${shape[1]}) in the .npy header`, at);
    return Number(d);
  });
  return {
    version,
    dtype: parseDtype(descr[1], at),
    fortranOrder: fortran[1] === 'True',
    shape: parsed,
    dataOffset,
  };
}
