/**
 * Streaming readers of soft labels in JSON Lines (.jsonl, .ndjson) and JSON (.json). Both accept
 * what Python's json module writes by default: bare NaN, Infinity and -Infinity, which become
 * the non-finite numbers (data, flagged later), so JSON.parse cannot be used.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { RowBuffer, afterChunk, asLabelFileError, chunkRowsOf, fileSize, isBlank, readLineBatches } from './csv';
import { LabelFileError, checkCancelled, type LabelChunk, type LabelSource, type ReadOptions } from './types';

/** Where a piece of text starts in the file (1-based). */
interface Place {
  line: number;
  column: number;
}

// ---------------------------------------------------------------- one JSON value from a string

/** Deeper nesting is refused rather than overflowing the stack on a hostile file. */
const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

const show = (c: string | undefined, end = 'the end of the file'): string => (c === undefined ? end : JSON.stringify(c));

class ValueParser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly s: string,
    private readonly file: string,
    private readonly at: Place,
    /** What running out of text means here: "the end of the line" in JSON Lines. */
    private readonly end: string,
  ) {}

  parse(): unknown {
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail(`unexpected ${this.show(this.s[this.i])} after the value`);
    return v;
  }

  private value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if ((c !== undefined && 'tfnNI'.includes(c)) || (c === '-' && this.s[this.i + 1] === 'I')) {
      for (const [word, v] of WORDS) {
        if (this.s.startsWith(word, this.i)) {
          this.i += word.length;
          return v;
        }
      }
    }
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) return this.fail(c === undefined ? `expected a value, found ${this.show(c)}` : `unexpected ${this.show(c)}`);
    this.i += m[0].length;
    return Number(m[0]);
  }

  private object(): Record<string, unknown> {
    this.enter();
    // No prototype, so that a "__proto__" key is just a key.
    const o = Object.create(null) as Record<string, unknown>;
    this.ws();
    if (this.s[this.i] === '}') return this.leave(o);
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail(`expected a "quoted" key, found ${this.show(this.s[this.i])}`);
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail(`expected ':', found ${this.show(this.s[this.i])}`);
      this.i++;
      o[key] = this.value();
      this.ws();
      const c = this.s[this.i];
      if (c === '}') return this.leave(o);
      if (c !== ',') this.fail(`expected ',' or '}', found ${this.show(c)}`);
      this.i++;
    }
  }

  private array(): unknown[] {
    this.enter();
    const a: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') return this.leave(a);
    for (;;) {
      a.push(this.value());
      this.ws();
      const c = this.s[this.i];
      if (c === ']') return this.leave(a);
      if (c !== ',') this.fail(`expected ',' or ']', found ${this.show(c)}`);
      this.i++;
    }
  }

  private string(): string {
    const s = this.s;
    const quote = this.i;
    let out = '';
    let start = quote + 1;
    for (let i = start; ; ) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string', quote);
      if (c === 34) {
        this.i = i + 1;
        return out + s.slice(start, i);
      }
      if (c < 0x20) this.fail('control character in a string', i);
      if (c !== 92) {
        i++;
        continue;
      }
      out += s.slice(start, i);
      const e = s[i + 1];
      const hex = s.slice(i + 2, i + 6);
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        i += 2;
      } else this.fail(`invalid escape ${this.show('\\' + (e ?? ''))} in a string`, i);
      start = i;
    }
  }

  private show(c: string | undefined): string {
    return show(c, this.end);
  }

  private ws(): void {
    let c = this.s.charCodeAt(this.i);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = this.s.charCodeAt(++this.i);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.i++;
  }

  private leave<T>(v: T): T {
    this.depth--;
    this.i++;
    return v;
  }

  private fail(message: string, at = this.i): never {
    const before = this.s.slice(0, at);
    const nl = before.lastIndexOf('\n');
    const line = this.at.line + (before.match(/\n/g)?.length ?? 0);
    const column = nl < 0 ? this.at.column + at : at - nl;
    throw new LabelFileError(this.file, `invalid JSON: ${message}`, { line, column });
  }
}

/** Python's json module writes NaN, Infinity and -Infinity bare; they are tried before numbers. */
const WORDS: [string, unknown][] = [
  ['true', true], ['false', false], ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
];

export function parseJsonValue(text: string, file: string, at: Place, end = 'the end of the value'): unknown {
  return new ValueParser(text, file, at, end).parse();
}

// ---------------------------------------------------------------- records to rows

/** Fields that hold the vector, by convention, in order of preference. */
const FIELD_NAMES = ['probs', 'probabilities', 'soft_label', 'soft_labels', 'soft_targets', 'targets', 'target', 'label_distribution', 'distribution', 'y', 'p'];

interface Shape {
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

function detectShape(first: unknown, field: string | undefined, file: string, line: number): Shape {
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

function fillRow(rec: unknown, shape: Shape, out: RowBuffer, file: string, line: number): void {
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

// ---------------------------------------------------------------- JSON, streamed

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * The text of a .json file, read block by block. Positions are absolute character indices; the
 * buffer keeps only the text from the value being read on, so memory is one record plus a block.
 */
class JsonText {
  private readonly stream: ReadStream;
  private readonly blocks: AsyncIterator<Buffer>;
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  /** Absolute index of buf[0]. */
  private base = 0;
  private lineStart = 0;
  private started = false;
  pos = 0;
  line = 1;
  bytesDone = 0;

  constructor(
    readonly file: string,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.stream = createReadStream(file, { highWaterMark: 1 << 16 });
    this.blocks = (this.stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  close(): void {
    this.stream.destroy();
  }

  get place(): Place {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  error(message: string, at: Place = this.place): LabelFileError {
    return new LabelFileError(this.file, `invalid JSON: ${message}`, at);
  }

  private char(i: number): string {
    return this.buf[i - this.base];
  }

  /** Makes index i available, dropping the text before `keep`; false at the end of the file. */
  private async has(i: number, keep: number): Promise<boolean> {
    while (i - this.base >= this.buf.length) {
      checkCancelled(this.file, this.signal);
      let r: IteratorResult<Buffer>;
      try {
        r = await this.blocks.next();
      } catch (err) {
        throw asLabelFileError(this.file, err);
      }
      let text = r.done ? this.decoder.end() : this.decoder.write(r.value);
      if (!r.done) this.bytesDone += r.value.length;
      if (!this.started && text !== '') {
        this.started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      this.buf = this.buf.slice(keep - this.base) + text;
      this.base = keep;
      if (r.done && i - this.base >= this.buf.length) return false;
    }
    return true;
  }

  /** Skips whitespace; the next character, not consumed, or undefined at the end of the file. */
  async peek(): Promise<string | undefined> {
    for (;;) {
      if (!(await this.has(this.pos, this.pos))) return undefined;
      const c = this.char(this.pos);
      if (!WS.has(c)) return c;
      if (c === '\n') {
        this.line++;
        this.lineStart = this.pos + 1;
      }
      this.pos++;
    }
  }

  /** The first non-space character after the next one, without consuming anything. */
  async peekAfterNext(): Promise<string | undefined> {
    for (let i = this.pos + 1; await this.has(i, this.pos); i++) if (!WS.has(this.char(i))) return this.char(i);
    return undefined;
  }

  /**
   * Consumes one value after peek(): finds its end by bracket depth (outside strings) and returns
   * its text, or '' when !keep, which lets a skipped value of any size pass in bounded memory.
   */
  async scan(keep: boolean): Promise<{ text: string; at: Place }> {
    const at = this.place;
    const start = this.pos;
    const scalar = !'{["'.includes(this.char(start));
    let i = start;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let done = false;
    while (!done) {
      if (!(await this.has(i, keep ? start : i))) {
        if (scalar) break;
        throw this.error('unexpected end of the file inside the value that starts here', at);
      }
      const end = this.base + this.buf.length;
      for (; i < end && !done; i++) {
        const c = this.buf.charCodeAt(i - this.base);
        if (scalar) {
          if (c === 44 || c === 93 || c === 125 || WS.has(this.buf[i - this.base])) break;
          continue;
        }
        if (c === 10) {
          this.line++;
          this.lineStart = i + 1;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) inString = false;
        } else if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) depth--;
        done = depth === 0 && !inString;
      }
      if (scalar && i < end) break;
    }
    if (i === start) throw this.error(`expected a value, found ${show(this.char(i))}`, at);
    const text = keep ? this.buf.slice(start - this.base, i - this.base) : '';
    this.pos = i;
    return { text, at };
  }
}

/**
 * Walks a .json document to its array of records: the top-level array, or in a top-level object
 * the field named by the field option, else the first field holding an array of arrays/objects.
 * Other values are skipped by bracket balance, so they are checked for balance only.
 */
class JsonRecords {
  /** The top-level object's field that holds the records, if the document is an object. */
  wrapper: string | undefined;
  private count = 0;
  private done = false;

  constructor(
    private readonly t: JsonText,
    private readonly field: string | undefined,
  ) {}

  async open(): Promise<void> {
    const { t } = this;
    const c = await t.peek();
    if (c === undefined) throw new LabelFileError(t.file, 'no data rows (the file is empty)');
    if (c !== '[' && c !== '{') throw t.error(`expected '[' or '{' at the start of the document, found ${show(c)}`);
    t.pos++;
    if (c === '[') return;
    const keys: string[] = [];
    for (;;) {
      if (keys.length > 0 || (await t.peek()) === '}') await this.comma('}', `no array of records in the top-level object (its fields: ${keys.join(', ') || 'none'})`);
      const key = await this.key();
      keys.push(key);
      if ((await t.peek()) === '[' && (key === this.field || '[{'.includes((await t.peekAfterNext()) ?? 'x'))) {
        t.pos++;
        this.wrapper = key;
        return;
      }
      await this.skipValue();
    }
  }

  /** The next record and the line it starts on, or undefined after the last. */
  async next(): Promise<{ value: unknown; line: number } | undefined> {
    const { t } = this;
    if (this.done) return undefined;
    let c = await t.peek();
    if (c === ']' && this.count === 0) return this.finish();
    if (this.count > 0) {
      if (c === ']') return this.finish();
      if (c !== ',') throw t.error(`expected ',' or ']' after record ${this.count}, found ${show(c)}`);
      t.pos++;
      c = await t.peek();
    }
    if (c === undefined) throw t.error('unexpected end of the file inside the array of records');
    const { text, at } = await t.scan(true);
    this.count++;
    return { value: parseJsonValue(text, t.file, at), line: at.line };
  }

  /** After the records: the rest of the wrapper object, then nothing but whitespace. */
  private async finish(): Promise<undefined> {
    const { t } = this;
    t.pos++;
    if (this.wrapper !== undefined) {
      while (!(await this.comma('}'))) {
        await this.key();
        await this.skipValue();
      }
    }
    const c = await t.peek();
    if (c !== undefined) throw t.error(`unexpected ${show(c)} after the end of the document`);
    this.done = true;
    return undefined;
  }

  /** Consumes ',' (false) or `close` (true); anything else is an error. */
  private async comma(close: string, closedMessage?: string): Promise<boolean> {
    const c = await this.t.peek();
    if (c === close && closedMessage !== undefined) throw new LabelFileError(this.t.file, closedMessage, this.t.place);
    if (c !== ',' && c !== close) throw this.t.error(`expected ',' or '${close}', found ${show(c)}`);
    this.t.pos++;
    return c === close;
  }

  private async key(): Promise<string> {
    const { t } = this;
    if ((await t.peek()) !== '"') throw t.error(`expected a "quoted" field name, found ${show(await t.peek())}`);
    const { text, at } = await t.scan(true);
    const key = parseJsonValue(text, t.file, at) as string;
    const c = await t.peek();
    if (c !== ':') throw t.error(`expected ':', found ${show(c)}`);
    t.pos++;
    return key;
  }

  /** Skips a value; scalars are kept and parsed, so they are checked. */
  private async skipValue(): Promise<void> {
    const c = await this.t.peek();
    if (c === undefined) throw this.t.error('unexpected end of the file');
    const keep = c !== '{' && c !== '[';
    const { text, at } = await this.t.scan(keep);
    if (keep) parseJsonValue(text, this.t.file, at);
  }
}

export async function openJson(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  const total = await fileSize(file);
  const t = new JsonText(file, opts.signal);
  const records = new JsonRecords(t, opts.field);
  let first;
  try {
    await records.open();
    first = await records.next();
  } finally {
    t.close();
  }
  if (!first) throw new LabelFileError(file, 'no data rows (the array of records is empty)');
  // A field option that named the wrapper's field is used up there.
  const field = records.wrapper !== undefined && records.wrapper === opts.field ? undefined : opts.field;
  const shape = detectShape(first.value, field, file, first.line);
  const where = records.wrapper === undefined ? 'JSON array' : `JSON field "${records.wrapper}"`;
  return {
    info: { format: 'json', K: shape.K, description: `${where}, ${shape.description}` },
    chunks: () => jsonRows(file, opts, total, shape),
  };
}

async function* jsonRows(file: string, opts: ReadOptions, total: number, shape: Shape): AsyncGenerator<LabelChunk> {
  checkCancelled(file, opts.signal);
  const t = new JsonText(file, opts.signal);
  const records = new JsonRecords(t, opts.field);
  const out = new RowBuffer(shape.K, chunkRowsOf(opts, shape.K));
  try {
    await records.open();
    for (let r = await records.next(); r !== undefined; r = await records.next()) {
      fillRow(r.value, shape, out, file, r.line);
      if (out.full) {
        yield out.take();
        afterChunk(file, opts, t.bytesDone, total);
      }
    }
    if (out.rows > 0) {
      yield out.take();
      afterChunk(file, opts, t.bytesDone, total);
    }
  } finally {
    t.close();
  }
}
