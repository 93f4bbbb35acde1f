/**
 * The byte level of the .parquet reader: the file as a hyparquet AsyncBuffer that reads ranges
 * with a FileHandle (so the file is never in memory whole), the footer and the row groups'
 * byte ranges checked before hyparquet trusts them, and the decompressors Node has built in.
 */
import { open } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { parquetMetadata, parquetSchema, type AsyncBuffer, type Compressors, type FileMetaData, type SchemaTree } from 'hyparquet';
import { asLabelFileError, fileSize } from './csv';
import { LabelFileError } from './types';

/** "PAR1", the magic at both ends of every parquet file, read as a little-endian uint32. */
const PAR1 = 0x31524150;
/** "PARE": the footer of a file with encrypted metadata. */
const PARE = 0x45524150;
/** A footer larger than this is taken for a corrupt length, not metadata (wide tables reach a few MB). */
const MAX_METADATA_BYTES = 256 << 20;

export interface RowGroupInfo {
  /** 0-based. */
  index: number;
  firstRow: number;
  rows: number;
  /** The first byte of its column chunks. */
  start: number;
  /** Compressed bytes of all its column chunks, for progress. */
  bytes: number;
}

export interface ParquetFile {
  file: string;
  size: number;
  metadata: FileMetaData;
  schema: SchemaTree;
  groups: RowGroupInfo[];
  rows: number;
}

/** A LabelFileError for whatever hyparquet (or a check here) found wrong with the bytes. */
export function corrupt(file: string, where: string, e: unknown, byteOffset?: number): Error {
  if (e instanceof LabelFileError) return e;
  const message = (e instanceof Error ? e.message : String(e)).replace(/^parquet /, '');
  return new LabelFileError(file, `corrupt parquet file: ${where}: ${message}`, { byteOffset });
}

/**
 * Decompressors beyond hyparquet's own (snappy), from node:zlib. zstd only where Node has it
 * (22.15 and later). maxOutputLength stops a page that lies about its size from filling memory.
 */
type Decompress = (input: Uint8Array, options?: zlib.ZlibOptions) => Buffer;
const zstd = (zlib as unknown as { zstdDecompressSync?: Decompress }).zstdDecompressSync;
const limited = (fn: Decompress) => (input: Uint8Array, outputLength: number): Uint8Array =>
  fn(input, { maxOutputLength: Math.max(1, Math.min(outputLength, 2 ** 31 - 1)) });
export const COMPRESSORS: Compressors = {
  // unzip takes the gzip framing the format asks for and the zlib framing some writers use.
  GZIP: limited(zlib.unzipSync),
  BROTLI: limited(zlib.brotliDecompressSync),
  ...(zstd ? { ZSTD: limited(zstd) } : {}),
};
export const CODECS: readonly string[] = ['UNCOMPRESSED', 'SNAPPY', ...Object.keys(COMPRESSORS)];

/** The file's bytes for hyparquet, each slice read when asked for; close() when done. */
export async function fileBuffer(file: string, size: number): Promise<AsyncBuffer & { close(): Promise<void> }> {
  const handle = await open(file, 'r').catch((e: unknown) => {
    throw asLabelFileError(file, e);
  });
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const bytes = new Uint8Array(Math.max(0, end - start));
      let got = 0;
      try {
        while (got < bytes.length) {
          const { bytesRead } = await handle.read(bytes, got, bytes.length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      } catch (e) {
        throw asLabelFileError(file, e);
      }
      // Only a file that shrank after it was opened ends before the ranges checked against its size.
      if (got < bytes.length) throw new LabelFileError(file, 'the file ends early (did it change while being read?)', { byteOffset: start + got });
      return bytes.buffer;
    },
    close: () => handle.close(),
  };
}

/** Opens and checks the footer, the schema and the row groups; reads no data. */
export async function openParquetFile(file: string): Promise<ParquetFile> {
  const size = await fileSize(file);
  const buffer = await fileBuffer(file, size);
  try {
    const { metadata, metaStart } = await readFooter(file, buffer, size);
    try {
      const schema = parquetSchema(metadata);
      if (schema.count !== metadata.schema.length) throw new Error(`the schema's tree holds ${schema.count} of its ${metadata.schema.length} elements`);
      const groups = rowGroups(file, metadata, metaStart);
      const rows = groups.reduce((n, g) => n + g.rows, 0);
      if (BigInt(rows) !== metadata.num_rows) throw new Error(`it says ${metadata.num_rows} rows, but its row groups hold ${rows}`);
      return { file, size, metadata, schema, groups, rows };
    } catch (e) {
      // Also a TypeError: a field that a corrupt footer left out, which hyparquet does not check.
      throw corrupt(file, 'the metadata', e, metaStart);
    }
  } finally {
    await buffer.close();
  }
}

async function readFooter(file: string, buffer: AsyncBuffer, size: number): Promise<{ metadata: FileMetaData; metaStart: number }> {
  if (size < 12) throw new LabelFileError(file, `not a parquet file: ${size} bytes is too short (a parquet file starts and ends with "PAR1")`, { byteOffset: 0 });
  const head = new DataView(await buffer.slice(0, 4));
  if (head.getUint32(0, true) !== PAR1) {
    const shown = JSON.stringify(String.fromCharCode(...new Uint8Array(head.buffer))).replace(/[^\x20-\x7e]/g, '?');
    throw new LabelFileError(file, `not a parquet file: it starts with ${shown}, not "PAR1"`, { byteOffset: 0 });
  }
  const tail = new DataView(await buffer.slice(size - 8, size));
  const magic = tail.getUint32(4, true);
  if (magic === PARE) throw new LabelFileError(file, 'the parquet metadata is encrypted, which this reader does not support', { byteOffset: size - 4 });
  if (magic !== PAR1) {
    throw new LabelFileError(file, 'the file does not end with "PAR1": it is truncated, or not a parquet file', { byteOffset: size - 4 });
  }
  const length = tail.getUint32(0, true);
  const metaStart = size - 8 - length;
  if (metaStart < 4 || length > MAX_METADATA_BYTES) {
    const but = metaStart < 4 ? `but ${size - 12} bytes lie between the magic numbers` : `more than this reader accepts (${MAX_METADATA_BYTES >> 20} MiB)`;
    throw new LabelFileError(file, `corrupt parquet file: the footer says the metadata is ${length} bytes, ${but}`, { byteOffset: size - 8 });
  }
  let metadata: FileMetaData;
  try {
    // geoparquet: false skips a pass over the schema that never ends on a negative num_children.
    metadata = parquetMetadata(await buffer.slice(metaStart, size), { geoparquet: false });
  } catch (e) {
    throw corrupt(file, 'the metadata cannot be decoded', e, metaStart);
  }
  // Fields a corrupt footer can leave out or make negative, which hyparquet takes as they come.
  for (const [i, e] of metadata.schema.entries()) {
    if (typeof e.name !== 'string') throw corrupt(file, 'the schema', `element ${i + 1} has no name`, metaStart);
    if (e.num_children !== undefined && !(Number.isInteger(e.num_children) && e.num_children >= 0)) {
      throw corrupt(file, 'the schema', `element "${e.name}" says it has ${e.num_children} children`, metaStart);
    }
  }
  return { metadata, metaStart };
}

/** Each row group's rows and bytes, after checking that its column chunks lie within the file. */
function rowGroups(file: string, metadata: FileMetaData, metaStart: number): RowGroupInfo[] {
  let firstRow = 0;
  return metadata.row_groups.map((g, index) => {
    const where = `row group ${index + 1}`;
    const rows = Number(g.num_rows);
    if (!Number.isSafeInteger(rows) || rows < 0) throw corrupt(file, where, `it says it has ${g.num_rows} rows`, metaStart);
    let start = metaStart;
    let bytes = 0;
    for (const c of g.columns) {
      const m = c.meta_data;
      if (!m) throw corrupt(file, where, 'a column chunk has no metadata', metaStart);
      if (c.file_path) throw new LabelFileError(file, `${where} keeps its data in another file (${c.file_path}), which this reader does not follow`);
      const first = Number(m.dictionary_page_offset || m.data_page_offset);
      const length = Number(m.total_compressed_size);
      if (!(first >= 4 && length >= 0 && first + length <= metaStart)) {
        throw corrupt(file, where, `column ${m.path_in_schema.join('.')} says its data lies at bytes ${first}–${first + length}, outside the data (4–${metaStart})`, metaStart);
      }
      start = Math.min(start, first);
      bytes += length;
    }
    const info = { index, firstRow, rows, start, bytes };
    firstRow += rows;
    return info;
  });
}
