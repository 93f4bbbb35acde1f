/**
 * Streaming reader of soft labels in delimited text (.csv, .tsv and the like), plus the line
 * splitting and row buffering that the other text readers (jsonl.ts) share.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  DEFAULT_CHUNK_ROWS,
  LabelFileError,
  ReadCancelled,
  checkCancelled,
  type LabelChunk,
  type LabelSource,
  type ReadOptions,
} from './types';

// ---------------------------------------------------------------- shared by the text readers

/** The file's size; a missing or unreadable file is a LabelFileError, like any other bad input. */
export async function fileSize(file: string): Promise<number> {
  let s;
  try {
    s = await stat(file);
  } catch (err) {
    throw asLabelFileError(file, err);
  }
  if (!s.isFile()) throw new LabelFileError(file, 'not a regular file');
  return s.size;
}

/** Turns an I/O error into a LabelFileError; our own errors pass through. */
export function asLabelFileError(file: string, err: unknown): Error {
  if (err instanceof LabelFileError || err instanceof ReadCancelled) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new LabelFileError(file, `cannot read the file (${code ?? String(err)})`);
}

export interface LineBatch {
  lines: string[];
  /** 1-based line number of lines[0]. */
  firstLine: number;
  /** Bytes of the file read so far, through the end of this batch. */
  bytesDone: number;
}

/**
 * Splits a file into lines (LF or CRLF; a leading UTF-8 BOM dropped), one batch per block
 * read, so that memory stays bounded and the consumer loops synchronously within a batch.
 */
export async function* readLineBatches(file: string, signal?: AbortSignal): AsyncGenerator<LineBatch> {
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  let partial: Buffer[] = [];
  let line = 1;
  let bytes = 0;
  try {
    for await (const block of stream as AsyncIterable<Buffer>) {
      checkCancelled(file, signal);
      bytes += block.length;
      const lines: string[] = [];
      let start = 0;
      for (let nl = block.indexOf(10); nl !== -1; nl = block.indexOf(10, start)) {
        const piece = block.subarray(start, nl);
        lines.push(decodeLine(partial.length > 0 ? Buffer.concat([...partial, piece]) : piece, line + lines.length));
        partial = [];
        start = nl + 1;
      }
      if (start < block.length) partial.push(block.subarray(start));
      if (lines.length > 0) {
        yield { lines, firstLine: line, bytesDone: bytes };
        line += lines.length;
      }
    }
    if (partial.length > 0) yield { lines: [decodeLine(Buffer.concat(partial), line)], firstLine: line, bytesDone: bytes };
  } catch (err) {
    throw asLabelFileError(file, err);
  } finally {
    stream.destroy();
  }
}

function decodeLine(bytes: Buffer, line: number): string {
  let s = bytes.toString('utf8');
  if (line === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

export const isBlank = (s: string): boolean => /^\s*$/.test(s);

/** Rows per chunk; capped so that one chunk never holds more than 2^24 values (128 MiB) whatever K is. */
export function chunkRowsOf(opts: ReadOptions, K: number): number {
  const n = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const wanted = Number.isFinite(n) && n >= 1 ? Math.floor(n) : DEFAULT_CHUNK_ROWS;
  return Math.max(1, Math.min(wanted, Math.floor(2 ** 24 / Math.max(1, K))));
}

/** Collects rows into chunks; each chunk gets fresh arrays, since the consumer may keep them. */
export class RowBuffer {
  data: Float64Array;
  private lines: Int32Array;
  rows = 0;
  private firstRow = 0;

  constructor(
    readonly K: number,
    private readonly capacity: number,
  ) {
    this.data = new Float64Array(capacity * K);
    this.lines = new Int32Array(capacity);
  }

  /** Starts a row read from `line`; returns the offset of its K values in `data`. */
  begin(line: number): number {
    if (this.rows === 0 && this.data.length === 0) {
      this.data = new Float64Array(this.capacity * this.K);
      this.lines = new Int32Array(this.capacity);
    }
    this.lines[this.rows] = line;
    return this.rows++ * this.K;
  }

  get full(): boolean {
    return this.rows === this.capacity;
  }

  take(): LabelChunk {
    const { rows, K } = this;
    const chunk: LabelChunk = {
      data: this.data.subarray(0, rows * K),
      rows,
      K,
      firstRow: this.firstRow,
      lines: this.lines.subarray(0, rows),
    };
    this.firstRow += rows;
    this.rows = 0;
    // Allocated again on the next row only, so the last chunk costs no spare buffer.
    this.data = new Float64Array(0);
    this.lines = new Int32Array(0);
    return chunk;
  }
}

/** What every text reader does after the consumer has had a chunk. */
export function afterChunk(file: string, opts: ReadOptions, bytesDone: number, bytesTotal: number): void {
  checkCancelled(file, opts.signal);
  opts.onProgress?.(Math.min(bytesDone, bytesTotal), bytesTotal);
}

// ---------------------------------------------------------------- delimited text

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = new Map<string, number>([
  ['nan', NaN], ['+nan', NaN], ['-nan', NaN],
  ['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity],
  ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity],
]);

/** A cell's number, or undefined. Number() alone would take '', '0x1f' and ' ' as numbers. */
export function parseCell(cell: string, decimalComma = false): number | undefined {
  let s = cell.trim();
  if (decimalComma && s.includes(',') && !s.includes('.')) s = s.replace(',', '.');
  if (NUMBER.test(s)) return Number(s);
  return NON_FINITE.get(s.toLowerCase());
}

/** Splits a line at the delimiter; double-quoted cells may hold the delimiter and "" for a quote. */
function splitCells(line: string, delim: string): string[] {
  if (delim === ' ') return line.trim().split(/\s+/);
  if (!line.includes('"')) return line.split(delim);
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c !== '"') cur += c;
      else if (line[i + 1] === '"') cur += line[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === delim) {
      cells.push(cur);
      cur = '';
    } else cur += c;
  }
  cells.push(cur);
  return cells;
}

/** Tab, then semicolon (whose files use decimal commas), then comma; else runs of whitespace (np.savetxt). */
function detectDelimiter(line: string, tsv: boolean): string {
  if (tsv || line.includes('\t')) return '\t';
  if (line.includes(';')) return ';';
  return line.includes(',') ? ',' : ' ';
}

const DELIMITER_NAMES: Record<string, string> = {
  '\t': 'tab-separated',
  ';': 'semicolon-separated (decimal commas accepted)',
  ',': 'comma-separated',
  ' ': 'whitespace-separated',
};

/** Header names that pandas and friends give an index column, which is not a class. */
const INDEX_NAMES = new Set(['', 'unnamed: 0', 'index', 'id', 'idx']);

interface Layout {
  file: string;
  delim: string;
  decimalComma: boolean;
  /** The header's line, or 0 without a header. */
  headerLine: number;
  names: string[] | undefined;
  ncols: number;
  /** 0-based indices of the columns read, in order. */
  cols: number[];
}

const label = (L: Pick<Layout, 'names'>, c: number): string =>
  L.names && L.names[c] !== '' ? `column ${c + 1} ('${L.names[c]}')` : `column ${c + 1}`;

function checkCellCount(L: Layout, cells: string[], line: number, firstDataLine?: number): void {
  if (cells.length === L.ncols) return;
  const as = L.names ? 'the header' : `line ${firstDataLine}`;
  throw new LabelFileError(L.file, `row has ${cells.length} cells, expected ${L.ncols} as in ${as}`, {
    line,
    column: Math.min(cells.length, L.ncols) + 1,
  });
}

function cellError(L: Layout, cell: string, c: number, line: number): LabelFileError {
  // Control characters (a stray \r, say) are shown escaped, so the message stays on one line.
  const printable = Array.from(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell, (ch) =>
    ch.charCodeAt(0) < 32 ? JSON.stringify(ch).slice(1, -1) : ch,
  ).join('');
  const what = cell.trim() === '' ? `is empty, not a number` : `is not a number`;
  return new LabelFileError(L.file, `cell '${printable}' in ${label(L, c)} ${what}`, { line, column: c + 1 });
}

function parseRow(L: Layout, text: string, line: number, out: RowBuffer, firstDataLine: number): void {
  const cells = splitCells(text, L.delim);
  checkCellCount(L, cells, line, firstDataLine);
  const off = out.begin(line);
  for (let k = 0; k < L.cols.length; k++) {
    const c = L.cols[k];
    const v = parseCell(cells[c], L.decimalComma);
    if (v === undefined) throw cellError(L, cells[c], c, line);
    out.data[off + k] = v;
  }
}

/** What column selection needs to know of a table; parquet.ts selects with it too. */
export type ColumnNames = Pick<Layout, 'file' | 'names' | 'ncols'>;

/** Resolves the columns option: names, 1-based indices, and ranges of either ("2-11", "p0-p9"). */
export function selectColumns(L: ColumnNames, spec: string): number[] {
  const tokens = spec.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (tokens.length === 0) throw new LabelFileError(L.file, `no columns in the selection '${spec}'`);
  return tokens.flatMap((t) => resolveToken(L, t));
}

function resolveToken(L: ColumnNames, t: string): number[] {
  const byName = (n: string): number => (L.names ? L.names.indexOf(n) : -1);
  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  if (!/^\d+$/.test(t) && byName(t) >= 0) return [byName(t)];
  const num = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(t);
  if (num) {
    const a = Number(num[1]);
    const b = num[2] === undefined ? a : Number(num[2]);
    for (const i of [a, b]) {
      if (i < 1 || i > L.ncols) throw new LabelFileError(L.file, `column ${i} is out of range: the file has ${L.ncols} columns (1–${L.ncols})`);
    }
    if (b < a) throw new LabelFileError(L.file, `the column range '${t}' runs backwards`);
    return range(a - 1, b - 1);
  }
  for (let dash = t.indexOf('-'); dash > 0; dash = t.indexOf('-', dash + 1)) {
    const a = byName(t.slice(0, dash).trim());
    const b = byName(t.slice(dash + 1).trim());
    if (a >= 0 && b >= a) return range(a, b);
  }
  const exist = L.names
    ? `the columns are ${L.names.slice(0, 30).map((n, i) => n || `(unnamed ${i + 1})`).join(', ')}${L.names.length > 30 ? `, … (${L.names.length} in all)` : ''}`
    : `the file has no header row; select columns by 1-based index (1–${L.ncols})`;
  throw new LabelFileError(L.file, `no column '${t}': ${exist}`);
}

/** Without a selection: the columns numeric in the first data row, less an index column by name. */
function numericColumns(L: Layout, cells: string[], line: number): { cols: number[]; skipped: string[] } {
  const cols: number[] = [];
  const skipped: string[] = [];
  cells.forEach((cell, c) => {
    if (parseCell(cell, L.decimalComma) === undefined) return;
    if (L.names && INDEX_NAMES.has(L.names[c].toLowerCase())) skipped.push(label(L, c));
    else cols.push(c);
  });
  if (cols.length < 2) {
    throw new LabelFileError(
      L.file,
      `only ${cols.length} numeric column${cols.length === 1 ? '' : 's'} in the first data row; soft labels need at least 2: select them with the columns option (e.g. "2-11")`,
      { line },
    );
  }
  return { cols, skipped };
}

function describeColumns(L: Layout): string {
  const shown = L.cols.map((c) => (L.names && L.names[c] !== '' ? L.names[c] : String(c + 1)));
  const contiguous = L.cols.every((c, i) => c === L.cols[0] + i);
  if (contiguous && shown.length > 3) return `${shown[0]}…${shown[shown.length - 1]}`;
  if (shown.length <= 8) return shown.join(', ');
  return `${shown.slice(0, 6).join(', ')}, … (${shown.length} columns)`;
}

/** The first two non-blank lines: the header or first data row, and the line after it. */
async function readHead(file: string, signal?: AbortSignal): Promise<{ text: string; line: number }[]> {
  const head: { text: string; line: number }[] = [];
  for await (const batch of readLineBatches(file, signal)) {
    for (let j = 0; j < batch.lines.length && head.length < 2; j++) {
      if (!isBlank(batch.lines[j])) head.push({ text: batch.lines[j], line: batch.firstLine + j });
    }
    if (head.length === 2) break;
  }
  return head;
}

export async function openCsv(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  const total = await fileSize(file);
  const head = await readHead(file, opts.signal);
  if (head.length === 0) throw new LabelFileError(file, 'no data rows (the file is empty)');
  const tsv = extname(file).toLowerCase() === '.tsv';
  const delim = detectDelimiter(head[0].text, tsv);
  const decimalComma = delim === ';';
  const firstCells = splitCells(head[0].text, delim);
  const hasHeader = firstCells.some((c) => parseCell(c, decimalComma) === undefined);
  const data = hasHeader ? head[1] : head[0];
  if (!data) throw new LabelFileError(file, 'no data rows (only a header)', { line: head[0].line });
  const dataCells = hasHeader ? splitCells(data.text, delim) : firstCells;
  const L: Layout = {
    file,
    delim,
    decimalComma,
    headerLine: hasHeader ? head[0].line : 0,
    names: hasHeader ? firstCells.map((c) => c.trim()) : undefined,
    ncols: firstCells.length,
    cols: [],
  };
  checkCellCount(L, dataCells, data.line, data.line);
  let skipped: string[] = [];
  if (opts.columns !== undefined) L.cols = selectColumns(L, opts.columns);
  else ({ cols: L.cols, skipped } = numericColumns(L, dataCells, data.line));
  const description =
    `${DELIMITER_NAMES[delim]}, ${hasHeader ? 'header' : 'no header'}, columns ${describeColumns(L)}` +
    (skipped.length > 0 ? ` (index ${skipped.join(', ')} skipped)` : '');
  return {
    info: { format: tsv || delim === '\t' ? 'tsv' : 'csv', K: L.cols.length, description },
    chunks: () => readRows(L, opts, total, data.line),
  };
}

async function* readRows(L: Layout, opts: ReadOptions, total: number, firstDataLine: number): AsyncGenerator<LabelChunk> {
  checkCancelled(L.file, opts.signal);
  const out = new RowBuffer(L.cols.length, chunkRowsOf(opts, L.cols.length));
  let bytesDone = 0;
  for await (const batch of readLineBatches(L.file, opts.signal)) {
    for (let j = 0; j < batch.lines.length; j++) {
      const line = batch.firstLine + j;
      if (line <= L.headerLine || isBlank(batch.lines[j])) continue;
      parseRow(L, batch.lines[j], line, out, firstDataLine);
      if (out.full) {
        yield out.take();
        afterChunk(L.file, opts, batch.bytesDone, total);
      }
    }
    bytesDone = batch.bytesDone;
  }
  if (out.rows > 0) {
    yield out.take();
    afterChunk(L.file, opts, bytesDone, total);
  }
}
