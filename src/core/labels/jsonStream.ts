/**
 * The streamed .json reader: a top-level array of records (or an object with one field holding
 * it), tokenized block by block so that memory is one record plus a block, never the file.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { RowBuffer, afterChunk, asLabelFileError, chunkRowsOf, fileSize } from './csv';
import { detectShape, fillRow, type Shape } from './jsonl';
import { parseJsonValue, show, type Place } from './jsonValue';
import { LabelFileError, checkCancelled, type LabelChunk, type LabelSource, type ReadOptions } from './types';

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
