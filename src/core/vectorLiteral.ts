/**
 * Reads a vector (or a matrix of rows) written the way ML code and tools write one:
 *   [0.1, 0.2, 0.7]            a Python / JSON / JS list
 *   np.array([0.1, 0.2, 0.7])  numpy, torch.tensor(...), tf.constant(...), jnp.array(...)
 *   [0.1 0.2 0.7]              numpy's printed form, without commas
 *   tensor([[1.0, -2.0, 0.5]]) a printed tensor; each inner list is a row
 *   0.1, 0.2, 0.7              a bare comma- or space-separated line
 * Keyword arguments after the list (dtype=..., device=...) are ignored.
 */
export class LiteralError extends Error {
  /** 0-based character offset in the text where the problem is. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'LiteralError';
    this.offset = offset;
  }
}

export interface VectorLiteral {
  rows: number[][];
  /** 0-based offset of each row's first number in the text. */
  offsets: number[];
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/;
const WORD = /^[-+]?[A-Za-z_][\w.]*(?:\([^()]*\))?/;

export function parseVectorLiteral(text: string): VectorLiteral {
  const open = text.indexOf('[');
  if (open < 0) return { rows: [parseFlat(text, 0, text.length)], offsets: [firstNonSpace(text, 0)] };
  const rows: number[][] = [];
  const offsets: number[] = [];
  const close = parseList(text, open, rows, offsets, 0);
  const rest = text.slice(close + 1);
  if (/\[/.test(rest)) {
    throw new LiteralError('more than one list in the selection; select one vector or one matrix', close + 1);
  }
  if (rows.length === 0) throw new LiteralError('the list is empty', open);
  const K = rows[0].length;
  for (let r = 1; r < rows.length; r++) {
    if (rows[r].length !== K) {
      throw new LiteralError(`row ${r + 1} has ${rows[r].length} entries, row 1 has ${K}`, offsets[r]);
    }
  }
  return { rows, offsets };
}

function firstNonSpace(text: string, from: number): number {
  const m = /\S/.exec(text.slice(from));
  return m ? from + m.index : from;
}

/** Parses the list opening at `open`; pushes flat rows; returns the index of its `]`. */
function parseList(text: string, open: number, rows: number[][], offsets: number[], depth: number): number {
  if (depth > 1) throw new LiteralError('lists nested deeper than rows of a matrix are not supported', open);
  let i = open + 1;
  const values: number[] = [];
  let sawNumber = false;
  let sawList = false;
  let firstOffset = -1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ']') {
      if (sawNumber) {
        rows.push(values);
        offsets.push(firstOffset);
      }
      return i;
    }
    if (ch === '[') {
      if (sawNumber) throw new LiteralError('a list mixes numbers and lists', i);
      sawList = true;
      i = parseList(text, i, rows, offsets, depth + 1) + 1;
      continue;
    }
    if (ch === ',' || /\s/.test(ch)) {
      i++;
      continue;
    }
    if (sawList) throw new LiteralError('a list mixes numbers and lists', i);
    const { value, length } = readNumber(text, i, values.length);
    if (firstOffset < 0) firstOffset = i;
    values.push(value);
    sawNumber = true;
    i += length;
  }
  throw new LiteralError("the list opened here is not closed with ']'", open);
}

function parseFlat(text: string, from: number, to: number): number[] {
  const values: number[] = [];
  let i = from;
  while (i < to) {
    const ch = text[i];
    if (ch === ',' || /\s/.test(ch)) {
      i++;
      continue;
    }
    const { value, length } = readNumber(text, i, values.length);
    values.push(value);
    i += length;
  }
  if (values.length === 0) throw new LiteralError('no numbers found', from);
  return values;
}

function readNumber(text: string, at: number, index: number): { value: number; length: number } {
  const rest = text.slice(at);
  const num = NUMBER.exec(rest);
  if (num) {
    const after = rest[num[0].length];
    if (after !== undefined && /[A-Za-z_]/.test(after)) {
      throw new LiteralError(`entry ${index + 1} ('${rest.slice(0, num[0].length + 1)}…') is not a number`, at);
    }
    return { value: Number(num[0]), length: num[0].length };
  }
  const word = WORD.exec(rest);
  const shown = word ? word[0] : rest.slice(0, 12);
  if (word && /^[-+]?(?:np\.|math\.|torch\.)?(?:nan|inf|infinity)$|float\(/i.test(word[0])) {
    throw new LiteralError(`entry ${index + 1} ('${shown}') is not a finite number`, at);
  }
  throw new LiteralError(`entry ${index + 1} ('${shown}') is not a number`, at);
}

export type Interpretation = 'probabilities' | 'logits';

/**
 * Probabilities when every entry is ≥ 0 and the sum is within `tolerance` of 1; logits
 * otherwise. The caller says which it used.
 */
export function inferInterpretation(values: readonly number[], tolerance = 1e-6): Interpretation {
  let sum = 0;
  for (const v of values) {
    if (!(v >= 0)) return 'logits';
    sum += v;
  }
  return Math.abs(sum - 1) <= tolerance ? 'probabilities' : 'logits';
}
