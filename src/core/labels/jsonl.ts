/**
 * Streaming readers of soft labels in JSON Lines (.jsonl, .ndjson): one record per line, an
 * array of numbers or an object with a field holding one (detected or given). The record-shape
 * logic here is shared with the streamed .json reader (jsonStream.ts).
 */
import { RowBuffer, afterChunk, chunkRowsOf, fileSize, isBlank, readLineBatches } from './csv';
import { parseJsonValue } from './jsonValue';
import { LabelFileError, checkCancelled, type LabelChunk, type LabelSource, type ReadOptions } from './types';

const FIELD_NAMES = ['probs', 'probabilities', 'soft_label', 'soft_labels', 'soft_targets', 'targets', 'target', 'label_distribution', 'distribution', 'y', 'p'];

export interface Shape {
  /** Arrays are the vector; objects hold it in `field` (a key, or a dotted path). */
  kind: 'array' | 'object';
  field: string;
  K: number;
  firstLine: number;
  description: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumbers = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : isObject(v) ? 'an object' : `a ${typeof v}`;
const preview = (v: unknown): string => {
  const s = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** The field's value: a key first (it may contain dots), else a dotted path; undefined when absent. */
function lookup(o: Record<string, unknown>, field: string): unknown {
  if (Object.hasOwn(o, field)) return o[field];
  let cur: unknown = o;
  for (const part of field.split('.')) {
    if (!isObject(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** The field the first record's vector is in: the given one, the only array of numbers, or by name. */
function detectField(rec: Record<string, unknown>, file: string, line: number): { field: string; how: string } {
  const keys = Object.keys(rec);
  const numeric = keys.filter((k) => isNumbers(rec[k]));
  if (numeric.length === 1) return { field: numeric[0], how: 'the only array of numbers' };
  const named = FIELD_NAMES.find((n) => numeric.includes(n)) ?? FIELD_NAMES.find((n) => Object.hasOwn(rec, n));
  if (named !== undefined) return { field: named, how: numeric.length > 1 ? `by name, among ${numeric.join(', ')}` : 'by name' };
  const why =
    numeric.length > 1
      ? `several fields hold arrays of numbers (${numeric.join(', ')})`
      : `no field holds an array of numbers (fields: ${keys.join(', ') || 'none'})`;
  throw new LabelFileError(file, `${why}; name the field with the field option`, { line });
}

export function detectShape(first: unknown, field: string | undefined, file: string, line: number): Shape {
  let shape: Shape;
  if (Array.isArray(first)) {
    shape = { kind: 'array', field: '', K: first.length, firstLine: line, description: `arrays of ${first.length} numbers` };
  } else if (isObject(first)) {
    const { field: f, how } = field !== undefined ? { field, how: 'given' } : detectField(first, file, line);
    shape = { kind: 'object', field: f, K: 0, firstLine: line, description: `objects, field "${f}" (${how})` };
    shape.K = vectorOf(first, shape, file, line).length;
  } else {
    throw new LabelFileError(file, `the record is ${kindOf(first)}, not an array of numbers or an object`, { line });
  }
  if (shape.K < 2) throw new LabelFileError(file, `the first record has ${shape.K} entries; soft labels need at least 2`, { line });
  return shape;
}

function vectorOf(rec: unknown, shape: Shape, file: string, line: number): unknown[] {
  if (shape.kind === 'array') {
    if (Array.isArray(rec)) return rec;
    throw new LabelFileError(file, `the record is ${kindOf(rec)}, but the first record (line ${shape.firstLine}) is an array`, { line });
  }
  if (!isObject(rec)) {
    throw new LabelFileError(file, `the record is ${kindOf(rec)}, but the first record (line ${shape.firstLine}) is an object`, { line });
  }
  const v = lookup(rec, shape.field);
  if (v === undefined) {
    throw new LabelFileError(file, `the record has no field "${shape.field}" (its fields: ${Object.keys(rec).join(', ') || 'none'})`, { line });
  }
  if (!Array.isArray(v)) throw new LabelFileError(file, `"${shape.field}" is ${kindOf(v)}, not an array of numbers`, { line });
  return v;
}

export function fillRow(rec: unknown, shape: Shape, out: RowBuffer, file: string, line: number): void {
  const v = vectorOf(rec, shape, file, line);
  const of = shape.kind === 'array' ? 'the record' : `"${shape.field}"`;
  if (v.length !== shape.K) {
    throw new LabelFileError(file, `${of} has ${v.length} entries, expected ${shape.K} as in line ${shape.firstLine}`, { line });
  }
  const off = out.begin(line);
  for (let k = 0; k < v.length; k++) {
    const x = v[k];
    if (typeof x !== 'number') throw new LabelFileError(file, `entry ${k + 1} of ${of} is ${preview(x)}, not a number`, { line });
    out.data[off + k] = x;
  }
}

// ---------------------------------------------------------------- JSON Lines

export async function openJsonl(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  const total = await fileSize(file);
  let first: { value: unknown; line: number } | undefined;
  outer: for await (const batch of readLineBatches(file, opts.signal)) {
    for (let j = 0; j < batch.lines.length; j++) {
      if (isBlank(batch.lines[j])) continue;
      const line = batch.firstLine + j;
      first = { value: parseJsonValue(batch.lines[j], file, { line, column: 1 }, 'the end of the line'), line };
      break outer;
    }
  }
  if (!first) throw new LabelFileError(file, 'no data rows (the file is empty)');
  const shape = detectShape(first.value, opts.field, file, first.line);
  return {
    info: { format: 'jsonl', K: shape.K, description: `JSON Lines, ${shape.description}` },
    chunks: () => jsonlRows(file, opts, total, shape),
  };
}

async function* jsonlRows(file: string, opts: ReadOptions, total: number, shape: Shape): AsyncGenerator<LabelChunk> {
  checkCancelled(file, opts.signal);
  const out = new RowBuffer(shape.K, chunkRowsOf(opts, shape.K));
  let bytesDone = 0;
  for await (const batch of readLineBatches(file, opts.signal)) {
    for (let j = 0; j < batch.lines.length; j++) {
      if (isBlank(batch.lines[j])) continue;
      const line = batch.firstLine + j;
      fillRow(parseJsonValue(batch.lines[j], file, { line, column: 1 }, 'the end of the line'), shape, out, file, line);
      if (out.full) {
        yield out.take();
        afterChunk(file, opts, batch.bytesDone, total);
      }
    }
    bytesDone = batch.bytesDone;
  }
  if (out.rows > 0) {
    yield out.take();
    afterChunk(file, opts, bytesDone, total);
  }
}
