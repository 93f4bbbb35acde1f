/**
 * Reads soft labels from a .parquet file with hyparquet, one row group at a time (a row group
 * is parquet's unit of compression, so it is the smallest piece that can be decoded alone).
 * Two layouts: one list column holding each row's vector, or K numeric columns.
 */
import { parquetRead, type DecodedArray, type SchemaElement, type SchemaTree } from 'hyparquet';
import { afterChunk, chunkRowsOf, selectColumns } from './csv';
import { CODECS, COMPRESSORS, corrupt, fileBuffer, openParquetFile, type ParquetFile, type RowGroupInfo } from './parquetFile';
import { checkedBuffer, chunkChecks } from './parquetPages';
import { LabelFileError, checkCancelled, type LabelChunk, type LabelSource, type ReadOptions } from './types';

/** List columns looked for by name when there are several. */
const PREFERRED = ['probs', 'probabilities', 'soft_label', 'soft_labels', 'targets', 'target', 'y'];
/** Columns pandas and friends write as a row index, which is not a class. */
const INDEX_NAMES = new Set(['id', 'idx', 'index', '__index_level_0__', 'unnamed: 0']);

interface Column {
  name: string;
  /** A list of numbers, a numeric column, or anything else (strings, structs, dates, …). */
  kind: 'list' | 'number' | 'other';
  /** The physical type, with the logical one where it says more: "DOUBLE", "BYTE_ARRAY (STRING)". */
  type: string;
}

interface Layout {
  kind: 'list' | 'columns';
  cols: Column[];
  /** How the columns were chosen, for the description. */
  why: string;
}

/** The numeric types hyparquet decodes to numbers (or bigints), by name; undefined for any other. */
function numericType(el: SchemaElement): string | undefined {
  const logical = el.logical_type?.type;
  if (logical === 'FLOAT16') return 'FLOAT16';
  if (el.type === 'FLOAT' || el.type === 'DOUBLE') return el.type;
  if (el.type !== 'INT32' && el.type !== 'INT64') return undefined;
  // Dates, times and timestamps are stored as integers too, but they are not class scores.
  const plain = logical === undefined || logical === 'INTEGER';
  return plain && !/^(DATE|TIME|INTERVAL)/.test(el.converted_type ?? '') ? el.type : undefined;
}

const typeName = (el: SchemaElement): string =>
  `${el.type ?? 'group'}${el.logical_type ? ` (${el.logical_type.type})` : el.converted_type ? ` (${el.converted_type})` : ''}`;

/** The leaf of a list column: 3-level LIST (the standard), 2-level LIST, or a bare repeated leaf. */
function listLeaf(node: SchemaTree): SchemaElement | undefined {
  const el = node.element;
  if (node.children.length === 0) return el.repetition_type === 'REPEATED' ? el : undefined;
  const isList = el.logical_type?.type === 'LIST' || el.converted_type === 'LIST';
  const rep = node.children[0];
  if (!isList || node.children.length !== 1 || rep.element.repetition_type !== 'REPEATED') return undefined;
  if (rep.children.length === 0) return rep.element;
  return rep.children.length === 1 && rep.children[0].children.length === 0 ? rep.children[0].element : undefined;
}

function describeColumn(node: SchemaTree): Column {
  const name = node.element.name;
  const leaf = listLeaf(node);
  if (leaf) {
    const t = numericType(leaf);
    return t ? { name, kind: 'list', type: t } : { name, kind: 'other', type: `list of ${typeName(leaf)}` };
  }
  const t = node.children.length === 0 ? numericType(node.element) : undefined;
  return t ? { name, kind: 'number', type: t } : { name, kind: 'other', type: typeName(node.element) };
}

function chooseLayout(file: string, cols: Column[], opts: ReadOptions): Layout {
  const spec = opts.columns ?? opts.field;
  if (spec !== undefined) {
    const names = cols.map((c) => c.name);
    const picked = selectColumns({ file, names, ncols: names.length }, spec).map((i) => cols[i]);
    if (picked.length === 1 && picked[0].kind === 'list') return { kind: 'list', cols: picked, why: '' };
    for (const c of picked) {
      if (c.kind === 'list') throw new LabelFileError(file, `column "${c.name}" is a list: select it alone, or select numeric columns`);
      if (c.kind === 'other') throw new LabelFileError(file, `column "${c.name}" is ${c.type}, not numbers`);
    }
    if (picked.length < 2) throw new LabelFileError(file, `only column "${picked[0].name}" is selected: soft labels need a list column or at least 2 numeric columns`);
    return { kind: 'columns', cols: picked, why: '' };
  }
  const lists = cols.filter((c) => c.kind === 'list');
  if (lists.length === 1) return { kind: 'list', cols: lists, why: 'the only list of numbers' };
  const among = lists.map((c) => c.name).join(', ');
  if (lists.length > 1) {
    const named = PREFERRED.map((n) => lists.find((c) => c.name === n)).find((c) => c !== undefined);
    if (named) return { kind: 'list', cols: [named], why: `by name, among ${among}` };
    throw new LabelFileError(file, `several list columns (${among}): name one with the columns option`);
  }
  const numeric = cols.filter((c) => c.kind === 'number');
  const used = numeric.filter((c) => !INDEX_NAMES.has(c.name.toLowerCase()));
  if (used.length < 2) {
    const all = cols.map((c) => `${c.name} (${c.type})`).join(', ');
    throw new LabelFileError(file, `no list column of numbers and ${used.length} numeric column${used.length === 1 ? '' : 's'}: soft labels need one or the other (the columns: ${all})`);
  }
  const skipped = numeric.filter((c) => !used.includes(c)).map((c) => c.name);
  return { kind: 'columns', cols: used, why: skipped.length > 0 ? `index ${skipped.join(', ')} skipped` : '' };
}

function describe(pf: ParquetFile, L: Layout): string {
  const types = [...new Set(L.cols.map((c) => c.type))].join(', ');
  const names = L.cols.map((c) => c.name);
  const shown =
    L.kind === 'list' ? `list column "${names[0]}"` : names.length > 3 ? `columns ${names[0]}…${names[names.length - 1]}` : `columns ${names.join(', ')}`;
  const n = pf.groups.length;
  return `${shown} (${types}), ${n} row group${n === 1 ? '' : 's'}${L.why ? `; ${L.why}` : ''}`;
}

/** The codec of every chunk read must be one hyparquet can undo; say so before reading any. */
function checkCodecs(pf: ParquetFile, L: Layout): void {
  const wanted = new Set(L.cols.map((c) => c.name));
  for (const g of pf.metadata.row_groups) {
    for (const c of g.columns) {
      const m = c.meta_data;
      if (m && wanted.has(m.path_in_schema[0]) && !CODECS.includes(m.codec)) {
        throw new LabelFileError(
          pf.file,
          `column "${m.path_in_schema[0]}" is compressed with ${m.codec}, which this reader cannot decompress (it reads ${CODECS.join(', ')}); write the file with another compression, e.g. snappy`,
        );
      }
    }
  }
}

/** A run of a column's rows as hyparquet decoded it (one per page for flat columns); `at` is its first row in the group. */
interface Part {
  at: number;
  data: DecodedArray;
}
/** Per selected column, its parts in row order, covering the group's rows exactly. */
type GroupData = Part[][];

async function readGroup(pf: ParquetFile, L: Layout, g: RowGroupInfo, file: Parameters<typeof parquetRead>[0]['file']): Promise<GroupData> {
  const names = L.cols.map((c) => c.name);
  const parts = new Map<string, Part[]>(names.map((n) => [n, []]));
  try {
    await parquetRead({
      file: checkedBuffer(pf.file, file, chunkChecks(pf.file, pf.metadata, g, names)),
      metadata: pf.metadata,
      columns: names,
      rowStart: g.firstRow,
      rowEnd: g.firstRow + g.rows,
      compressors: COMPRESSORS,
      // Only collects: hyparquet calls this in a promise callback, where a throw would go unhandled.
      onChunk: (c) => parts.get(c.columnName)?.push({ at: c.rowStart - g.firstRow, data: c.columnData }),
    });
  } catch (e) {
    throw corrupt(pf.file, `row group ${g.index + 1}`, e, g.start);
  }
  return names.map((n) => checkParts(pf.file, g, n, parts.get(n) ?? []));
}

function checkParts(file: string, g: RowGroupInfo, name: string, parts: Part[]): Part[] {
  parts.sort((a, b) => a.at - b.at);
  let next = 0;
  for (const p of parts) {
    if (p.at !== next) break;
    next += p.data.length;
  }
  if (next !== g.rows) {
    throw corrupt(file, `row group ${g.index + 1}`, `column "${name}" holds ${next} rows in order, but the group has ${g.rows}`, g.start);
  }
  return parts;
}

/** Copies n cells of `d` from `from` into `out` at o, o + stride, …; returns the index of a cell that is no number, or −1. */
function copyRun(d: DecodedArray, from: number, n: number, out: Float64Array, o: number, stride: number): number {
  if (ArrayBuffer.isView(d) && !(d instanceof BigInt64Array || d instanceof BigUint64Array)) {
    const t = d as Float64Array;
    for (let i = 0; i < n; i++) out[o + i * stride] = t[from + i];
    return -1;
  }
  for (let i = 0; i < n; i++) {
    const v: unknown = d[from + i];
    // Nulls are NaN (flagged later as non-finite, not an error); INT64 comes as bigint.
    if (typeof v === 'number') out[o + i * stride] = v;
    else if (v === null || v === undefined) out[o + i * stride] = NaN;
    else if (typeof v === 'bigint') out[o + i * stride] = Number(v);
    else return from + i;
  }
  return -1;
}

const notNumber = (file: string, row: number, name: string, v: unknown): Error =>
  new LabelFileError(file, `row ${row + 1}: column "${name}" holds ${v instanceof Uint8Array ? 'bytes' : `a ${typeof v}`} where a number belongs`);

/** Rows [r0, r0 + out.length / K) of the group, interleaved into rows of K. */
function fillColumns(file: string, L: Layout, data: GroupData, r0: number, out: Float64Array, g: RowGroupInfo): void {
  const K = data.length;
  const r1 = r0 + out.length / K;
  for (let k = 0; k < K; k++) {
    for (const { at, data: d } of data[k]) {
      const a = Math.max(r0, at);
      const b = Math.min(r1, at + d.length);
      const bad = a < b ? copyRun(d, a - at, b - a, out, (a - r0) * K + k, K) : -1;
      if (bad >= 0) throw notNumber(file, g.firstRow + at + bad, L.cols[k].name, d[bad]);
    }
  }
}

function fillList(file: string, L: Layout, data: GroupData, r0: number, out: Float64Array, g: RowGroupInfo, K: number): void {
  const name = L.cols[0].name;
  const r1 = r0 + out.length / K;
  for (const { at, data: d } of data[0]) {
    for (let r = Math.max(r0, at); r < Math.min(r1, at + d.length); r++) {
      const v = d[r - at] as DecodedArray | null | undefined;
      const n = v?.length ?? 0;
      if (n !== K) {
        const what = n === 0 ? 'no entries (an empty or null list)' : `${n} entries`;
        throw new LabelFileError(file, `row ${g.firstRow + r + 1}: list column "${name}" has ${what}, expected ${K} as in row 1`);
      }
      const bad = copyRun(v!, 0, K, out, (r - r0) * K, 1);
      if (bad >= 0) throw notNumber(file, g.firstRow + r, name, v![bad]);
    }
  }
}

/**
 * Opens a .parquet file of soft labels: checks the footer and the schema, picks the layout
 * (opts.columns or opts.field, else detected) and, for a list column, reads the first row group
 * to learn K. The chunks are read one row group at a time, each split into chunkRows rows.
 */
export async function openParquet(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  checkCancelled(file, opts.signal);
  const pf = await openParquetFile(file);
  const L = chooseLayout(file, pf.schema.children.map(describeColumn), opts);
  checkCodecs(pf, L);
  const first = pf.groups.find((g) => g.rows > 0);
  if (!first) throw new LabelFileError(file, 'no data rows (the file has 0 rows)');
  let K = L.cols.length;
  // A list column's length is in its rows, not the schema: read the first group now, and keep it.
  let cached: { g: RowGroupInfo; data: GroupData } | undefined;
  if (L.kind === 'list') {
    const buffer = await fileBuffer(file, pf.size);
    try {
      cached = { g: first, data: await readGroup(pf, L, first, buffer) };
    } finally {
      await buffer.close();
    }
    const row = cached.data[0][0].data[0] as ArrayLike<unknown> | null;
    K = row?.length ?? 0;
    if (K < 2) throw new LabelFileError(file, `row 1: list column "${L.cols[0].name}" has ${K} entr${K === 1 ? 'y' : 'ies'}: soft labels need at least 2 classes`);
  }
  const description = describe(pf, L);
  return {
    info: { format: 'parquet', K, rows: pf.rows, description },
    chunks: () => {
      const take = cached;
      cached = undefined;
      return readChunks(pf, L, K, opts, take);
    },
  };
}

async function* readChunks(pf: ParquetFile, L: Layout, K: number, opts: ReadOptions, cached?: { g: RowGroupInfo; data: GroupData }): AsyncGenerator<LabelChunk> {
  checkCancelled(pf.file, opts.signal);
  const buffer = await fileBuffer(pf.file, pf.size);
  const step = chunkRowsOf(opts, K);
  let bytesAfter = 4;
  try {
    for (const g of pf.groups) {
      // Progress counts the group's compressed bytes as read in proportion to its rows.
      const bytesBefore = bytesAfter;
      bytesAfter += g.bytes;
      if (g.rows === 0) continue;
      checkCancelled(pf.file, opts.signal);
      const data = cached?.g === g ? cached.data : await readGroup(pf, L, g, buffer);
      cached = undefined;
      for (let r0 = 0; r0 < g.rows; r0 += step) {
        const rows = Math.min(step, g.rows - r0);
        const out = new Float64Array(rows * K);
        const firstRow = g.firstRow + r0;
        if (L.kind === 'list') fillList(pf.file, L, data, r0, out, g, K);
        else fillColumns(pf.file, L, data, r0, out, g);
        yield { data: out, rows, K, firstRow };
        const last = firstRow + rows === pf.rows;
        afterChunk(pf.file, opts, last ? pf.size : Math.round(bytesBefore + (g.bytes * (r0 + rows)) / g.rows), pf.size);
      }
    }
  } finally {
    await buffer.close();
  }
}
