/**
 * Checks a column chunk's pages before hyparquet decodes them. hyparquet trusts the counts in
 * the data: a page header's value count sizes its arrays, and each run of the RLE/bit-packed
 * hybrid (repetition and definition levels, dictionary indices) is written out in full. One
 * corrupt or hostile run of 2^29 values makes it grow an array until V8 aborts the whole process,
 * with no exception to catch. So every page header is read here first, each page's value count
 * is bounded by its chunk's and the group's, and every run by the values its page has left:
 * hyparquet's work then stays proportional to what the file really holds.
 */
import type { AsyncBuffer, CompressionCodec, FileMetaData, PageHeader } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from 'hyparquet/src/schema.js';
import { COMPRESSORS, corrupt, type RowGroupInfo } from './parquetFile';

/** Values one page may hold: V8's arrays end near 2^27 elements, and no writer makes pages this big. */
const MAX_PAGE_VALUES = 2 ** 26;
/** Values one column chunk may hold; a larger one needs smaller row groups (and more memory than a reader has). */
const MAX_CHUNK_VALUES = 2 ** 27;

export interface ChunkCheck {
  column: string;
  start: number;
  end: number;
  codec: CompressionCodec;
  /** The values the chunk says it holds: its pages together may not hold more. */
  values: number;
  /** The values one page may hold: the group's rows for a flat column. */
  pageValues: number;
  /** Bit widths of the repetition and definition levels, 0 where there are none. */
  repWidth: number;
  defWidth: number;
}

const bitWidth = (max: number): number => 32 - Math.clz32(max);

/** What to check of group g's chunks in the columns read, from the metadata. */
export function chunkChecks(file: string, metadata: FileMetaData, g: RowGroupInfo, columns: string[]): ChunkCheck[] {
  const where = `row group ${g.index + 1}`;
  return metadata.row_groups[g.index].columns.flatMap((c) => {
    const m = c.meta_data;
    if (!m || !columns.includes(m.path_in_schema[0])) return [];
    let path;
    try {
      path = getSchemaPath(metadata.schema, m.path_in_schema);
    } catch (e) {
      throw corrupt(file, where, e, g.start);
    }
    const maxRep = getMaxRepetitionLevel(path);
    const values = Number(m.num_values);
    const start = Number(m.dictionary_page_offset || m.data_page_offset);
    const name = m.path_in_schema.join('.');
    if (!(values >= 0 && values <= (maxRep ? MAX_CHUNK_VALUES : g.rows))) {
      throw corrupt(file, where, `column ${name} says it holds ${values} values${values > MAX_CHUNK_VALUES ? `, more than this reader handles at once (${MAX_CHUNK_VALUES}): write the file with smaller row groups` : ` for ${g.rows} rows`}`, start);
    }
    return [{
      column: name,
      start,
      end: start + Number(m.total_compressed_size),
      codec: m.codec,
      values,
      pageValues: Math.min(MAX_PAGE_VALUES, maxRep ? values : g.rows),
      repWidth: bitWidth(maxRep),
      defWidth: bitWidth(getMaxDefinitionLevel(path)),
    }];
  });
}

/**
 * Walks an RLE/bit-packed hybrid from `o` run by run, reading exactly what hyparquet's
 * readRleBitPackedHybrid will read, and returns what is wrong with a run, if anything.
 */
function walkHybrid(b: Uint8Array, o: number, width: number, count: number): string | undefined {
  if (width > 32) return `a bit width of ${width}`;
  for (let seen = 0; seen < count && o < b.length; ) {
    let header = 0;
    let byte;
    let shift = 0;
    // The same 32-bit arithmetic as hyparquet's readVarInt, so both see the same header.
    do {
      byte = b[o++] ?? 0;
      header |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80 && o < b.length);
    const run = header & 1 ? (header >> 1) << 3 : header >>> 1;
    // A bit-packed run is padded to a multiple of 8 values, so it may pass the count by 7.
    if (run < 0 || run > count - seen + (header & 1 ? 7 : 0)) return `a run of ${run} values where ${count - seen} are left`;
    seen += run;
    // hyparquet reads a bit-packed run's first byte before its count, so an empty run takes one byte.
    o += header & 1 ? Math.max(1, (header >> 1) * width) : (width + 7) >> 3;
  }
  return undefined;
}

const isIndices = (encoding: string): boolean => encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE';

const prefixed = (bad: string | undefined, what: string): string | undefined => (bad ? `${what}: ${bad}` : undefined);
const u32 = (b: Uint8Array, o: number): number => (o + 4 <= b.length ? new DataView(b.buffer, b.byteOffset + o, 4).getUint32(0, true) : 0);

/**
 * The problem with one data page's levels and dictionary indices, if any. Each walk starts
 * where hyparquet's reader starts and, like it, does not stop at a section's stated length.
 */
function checkDataPage(h: PageHeader, body: Uint8Array, c: ChunkCheck, n: number): string | undefined {
  const v1 = h.data_page_header;
  const v2 = h.data_page_header_v2;
  if (v1) {
    if (!c.repWidth && !c.defWidth && !isIndices(v1.encoding)) return undefined;
    // v1 compresses levels and values together: the levels are only seen decompressed.
    const page = decompressPage(body, h.uncompressed_page_size, c.codec, COMPRESSORS);
    let o = 0;
    for (const [width, what] of [[c.repWidth, 'repetition levels'], [c.defWidth, 'definition levels']] as const) {
      if (!width) continue;
      const bad = prefixed(walkHybrid(page, o + 4, width, n), what);
      if (bad) return bad;
      o += 4 + u32(page, o);
    }
    return isIndices(v1.encoding) ? prefixed(walkHybrid(page, o + 1, page[o] ?? 0, n), 'dictionary indices') : undefined;
  }
  if (!v2) return undefined;
  const repEnd = v2.repetition_levels_byte_length;
  const defEnd = repEnd + v2.definition_levels_byte_length;
  if (!(repEnd >= 0 && defEnd >= repEnd && defEnd <= body.length)) return `levels of ${defEnd} bytes in a page of ${body.length}`;
  const bad =
    (c.repWidth ? prefixed(walkHybrid(body, 0, c.repWidth, n), 'repetition levels') : undefined) ??
    (c.defWidth ? prefixed(walkHybrid(body, repEnd, c.defWidth, n), 'definition levels') : undefined);
  if (bad || !isIndices(v2.encoding)) return bad;
  const size = h.uncompressed_page_size - defEnd;
  const page = v2.is_compressed !== false && size ? decompressPage(body.subarray(defEnd), size, c.codec, COMPRESSORS) : body.subarray(defEnd);
  // RLE-encoded values are booleans, one bit wide with no width byte.
  if (v2.encoding === 'RLE') return prefixed(walkHybrid(page, 0, 1, n), 'values');
  return prefixed(walkHybrid(page, 1, page[0] ?? 0, n), 'dictionary indices');
}

/** Checks the pages of one column chunk, `bytes` being all of it; throws a LabelFileError. */
export function checkChunk(file: string, bytes: Uint8Array, c: ChunkCheck): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let values = 0;
  // As hyparquet's readColumn: pages until the last byte.
  for (let off = 0; off < bytes.length - 1; ) {
    const at = c.start + off;
    const where = `column ${c.column}, the page at byte ${at}`;
    const reader = { view, offset: off };
    try {
      const h = parquetHeader(reader);
      const size = h.compressed_page_size;
      if (!(size >= 0 && reader.offset + size <= bytes.length)) throw new Error(`it says it is ${size} bytes, past the end of its column chunk`);
      const n = (h.data_page_header ?? h.data_page_header_v2)?.num_values;
      if (n !== undefined) {
        values += n;
        if (!(n >= 0 && n <= c.pageValues && values <= c.values)) throw new Error(`it says it holds ${n} values, more than its column chunk can (${c.values} in all)`);
        const bad = checkDataPage(h, bytes.subarray(reader.offset, reader.offset + size), c, n);
        if (bad) throw new Error(bad);
      }
      off = reader.offset + size;
    } catch (e) {
      throw corrupt(file, where, e, at);
    }
  }
}

/**
 * The file for hyparquet, with each chunk in `checks` checked before any byte of it is returned.
 * hyparquet reads whole chunks (or runs of them); a slice that cuts a chunk is served after that
 * chunk has been read and checked whole, so no unchecked page ever reaches the decoder.
 */
export function checkedBuffer(file: string, base: AsyncBuffer, checks: ChunkCheck[]): AsyncBuffer {
  const done = new Set<ChunkCheck>();
  return {
    byteLength: base.byteLength,
    async slice(start: number, end = base.byteLength): Promise<ArrayBuffer> {
      const buf = await base.slice(start, end);
      for (const c of checks) {
        if (done.has(c) || c.end <= start || c.start >= end) continue;
        const inside = c.start >= start && c.end <= end;
        checkChunk(file, inside ? new Uint8Array(buf, c.start - start, c.end - c.start) : new Uint8Array(await base.slice(c.start, c.end)), c);
        done.add(c);
      }
      return buf;
    },
  };
}
