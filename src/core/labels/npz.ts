import { FileSource, InflateSource, type ByteSource } from './byteSource';
import { npyFromSource, readNpyHeader } from './npy';
import { LabelFileError, type LabelSource, type ReadOptions } from './types';

/**
 * Reads an array from a .npz (numpy's zip of .npy files, np.savez and np.savez_compressed):
 * stored entries are read in place, deflated ones decompressed as they stream. Zip64 (large
 * archives, and numpy's force_zip64 entries) is supported.
 */
interface Entry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeader: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export async function openNpz(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  const src = await FileSource.open(file);
  try {
    const entries = await centralDirectory(file, src);
    const arrays = entries.filter((e) => e.name.endsWith('.npy'));
    if (arrays.length === 0) throw new LabelFileError(file, `no .npy arrays in the archive (entries: ${names(entries)})`);
    const entry = await chooseArray(file, src, arrays, opts.array);
    const name = entry.name.replace(/\.npy$/, '');
    const source = await entrySource(file, src, entry);
    const result = await npyFromSource(file, source, opts, 'npz', name);
    result.info.description = `array '${name}' (${entry.method === 8 ? 'deflated' : 'stored'}): ${result.info.description}`;
    // The archive's handle stays open until the entry's rows are read (or the read fails).
    const inner = result.chunks.bind(result);
    return {
      info: result.info,
      chunks: async function* () {
        try {
          yield* inner();
        } finally {
          await src.close();
        }
      },
    };
  } catch (e) {
    await src.close();
    throw e;
  }
}

const names = (entries: Entry[]): string => entries.map((e) => e.name).join(', ') || 'none';

async function chooseArray(file: string, src: FileSource, arrays: Entry[], wanted: string | undefined): Promise<Entry> {
  if (wanted !== undefined) {
    const hit = arrays.find((e) => e.name === wanted || e.name === `${wanted}.npy`);
    if (!hit) throw new LabelFileError(file, `no array '${wanted}' (arrays: ${arrays.map((e) => e.name.replace(/\.npy$/, '')).join(', ')})`);
    return hit;
  }
  if (arrays.length === 1) return arrays[0];
  for (const e of arrays) {
    const s = await entrySource(file, src, e);
    try {
      const h = await readNpyHeader(`${file}[${e.name}]`, s);
      if (h.shape.length === 2) return e;
    } finally {
      await s.close();
    }
  }
  throw new LabelFileError(file, `no 2-D array among ${arrays.map((e) => e.name).join(', ')}; choose one with --array=NAME`);
}

async function entrySource(file: string, src: FileSource, e: Entry): Promise<ByteSource> {
  const local = new Uint8Array(30);
  if ((await src.read(local, e.localHeader)) < 30) throw new LabelFileError(file, `entry ${e.name}: its local header is cut off`, { byteOffset: e.localHeader });
  const dv = new DataView(local.buffer);
  if (dv.getUint32(0, true) !== LOCAL) throw new LabelFileError(file, `entry ${e.name}: no local header where the directory says`, { byteOffset: e.localHeader });
  const dataStart = e.localHeader + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  if (dataStart + e.compressedSize > src.size) {
    throw new LabelFileError(file, `entry ${e.name}: its data runs past the end of the file`, { byteOffset: src.size });
  }
  if (e.flags & 1) throw new LabelFileError(file, `entry ${e.name} is encrypted`, { byteOffset: e.localHeader });
  if (e.method === 0) return src.window(dataStart, e.size);
  if (e.method === 8) return new InflateSource(file, dataStart, e.compressedSize, e.size);
  throw new LabelFileError(file, `entry ${e.name}: compression method ${e.method} is not supported (stored and deflated are)`, { byteOffset: e.localHeader });
}

async function centralDirectory(file: string, src: FileSource): Promise<Entry[]> {
  const tailSize = Math.min(src.size, 22 + 65535 + 20);
  const tail = new Uint8Array(tailSize);
  await src.read(tail, src.size - tailSize);
  const dv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailSize - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new LabelFileError(file, 'not a zip archive (.npz): no end-of-central-directory record', { byteOffset: src.size });
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (eocd >= 20 && dv.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const at = Number(dv.getBigUint64(eocd - 20 + 8, true));
    const rec = new Uint8Array(56);
    await src.read(rec, at);
    const r = new DataView(rec.buffer);
    if (r.getUint32(0, true) !== ZIP64_EOCD) throw new LabelFileError(file, 'broken zip64 end-of-central-directory record', { byteOffset: at });
    count = Number(r.getBigUint64(32, true));
    cdSize = Number(r.getBigUint64(40, true));
    cdOffset = Number(r.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > src.size) throw new LabelFileError(file, 'the central directory lies past the end of the file', { byteOffset: cdOffset });
  const cd = new Uint8Array(cdSize);
  await src.read(cd, cdOffset);
  return parseEntries(file, cd, count, cdOffset);
}

function parseEntries(file: string, cd: Uint8Array, count: number, base: number): Entry[] {
  const dv = new DataView(cd.buffer);
  const entries: Entry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL) {
      throw new LabelFileError(file, `central directory entry ${n + 1} is malformed`, { byteOffset: base + p });
    }
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen > cd.length) throw new LabelFileError(file, `central directory entry ${n + 1} is cut off`, { byteOffset: base + p });
    const e: Entry = {
      name: new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen)),
      flags: dv.getUint16(p + 8, true),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      localHeader: dv.getUint32(p + 42, true),
    };
    applyZip64(e, dv, p + 46 + nameLen, extraLen);
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Zip64 extra field (id 1): the 64-bit values of the fields that read 0xFFFFFFFF, in order. */
function applyZip64(e: Entry, dv: DataView, start: number, length: number): void {
  const FULL = 0xffffffff;
  for (let q = start; q + 4 <= start + length; ) {
    const id = dv.getUint16(q, true);
    const size = dv.getUint16(q + 2, true);
    if (id === 1) {
      let r = q + 4;
      const next = (): number => {
        const v = Number(dv.getBigUint64(r, true));
        r += 8;
        return v;
      };
      if (e.size === FULL) e.size = next();
      if (e.compressedSize === FULL) e.compressedSize = next();
      if (e.localHeader === FULL) e.localHeader = next();
    }
    q += 4 + size;
  }
}
