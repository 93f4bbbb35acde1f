/**
 * A JSON value parser for soft-label files: what Python's json module writes, including bare
 * NaN, Infinity and -Infinity (JSON.parse rejects them), with errors at line and column.
 */
import { LabelFileError } from './types';

/** Where a piece of text starts in the file (1-based). */
export interface Place {
  line: number;
  column: number;
}

// ---------------------------------------------------------------- one JSON value from a string

/** Deeper nesting is refused rather than overflowing the stack on a hostile file. */
const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export const show = (c: string | undefined, end = 'the end of the file'): string => (c === undefined ? end : JSON.stringify(c));

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
