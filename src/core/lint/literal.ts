/**
 * Literal target vectors in the syntax tree (`[0.1, 0.9]`, `[[0, 1], [0.5, 0.5]]`), read from the
 * nodes rather than the text so comments and line breaks inside the list do not matter. Works for
 * Python lists and JS arrays alike.
 */
import type { Node } from 'web-tree-sitter';

export interface LiteralRows {
  rows: number[][];
  /** Written as a matrix (a list of lists). */
  twoD: boolean;
  /** Some entry is written as a float (`0.5`, `1.`, `1e-3`). */
  anyFloat: boolean;
}

const NUMBER_TYPES = new Set(['integer', 'float', 'number']);

function numberNode(n: Node): { value: number; float: boolean } | undefined {
  if (NUMBER_TYPES.has(n.type)) {
    const text = n.text.replace(/_/g, '');
    const value = Number(text);
    if (!Number.isFinite(value)) return undefined;
    return { value, float: n.type === 'float' || /[.eE]/.test(text) && !/^0[xob]/i.test(text) };
  }
  if (n.type === 'unary_operator' || n.type === 'unary_expression') {
    const op = n.childForFieldName('operator')?.type ?? n.child(0)?.type;
    const arg = n.childForFieldName('argument');
    const inner = arg ? numberNode(arg) : undefined;
    if (!inner || (op !== '-' && op !== '+')) return undefined;
    return { value: op === '-' ? -inner.value : inner.value, float: inner.float };
  }
  return undefined;
}

function isList(n: Node): boolean {
  return n.type === 'list' || n.type === 'array' || n.type === 'tuple';
}

/** The numbers of a 1-D or 2-D literal list; undefined when any entry is not a number literal. */
export function literalRows(list: Node): LiteralRows | undefined {
  if (!isList(list)) return undefined;
  const items = list.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
  if (items.length === 0) return undefined;
  let anyFloat = false;
  const readRow = (nodes: Node[]): number[] | undefined => {
    const row: number[] = [];
    for (const c of nodes) {
      const num = numberNode(c);
      if (!num) return undefined;
      anyFloat ||= num.float;
      row.push(num.value);
    }
    return row;
  };
  if (items.every(isList)) {
    const rows: number[][] = [];
    for (const it of items) {
      const row = readRow(it.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment'));
      if (!row || row.length === 0) return undefined;
      rows.push(row);
    }
    return { rows, twoD: true, anyFloat };
  }
  const row = readRow(items);
  return row ? { rows: [row], twoD: false, anyFloat } : undefined;
}

function isOneHotRow(row: number[]): boolean {
  return row.every((v) => v === 0 || v === 1) && row.filter((v) => v === 1).length === 1;
}

export type LiteralKind = 'indices' | 'one-hot' | 'soft';

/**
 * How a literal target reads: a 1-D list of integers is class indices; rows that are all one-hot
 * are hard labels; anything else written with floats (or as a matrix) is a probability target.
 */
export function classifyLiteral(lit: LiteralRows): { kind: LiteralKind; row?: number[] } {
  if (!lit.twoD && !lit.anyFloat) return { kind: 'indices' };
  const soft = lit.rows.find((r) => !isOneHotRow(r));
  return soft ? { kind: 'soft', row: soft } : { kind: 'one-hot' };
}
