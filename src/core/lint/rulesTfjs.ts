/**
 * LL131 (TypeScript / JavaScript): tf.losses.softmaxCrossEntropy(labels, logits, weights,
 * labelSmoothing > 0) from TensorFlow.js, with the namespace imported under any alias.
 */
import type { Node } from 'web-tree-sitter';
import type { RawFinding } from './finding';

const TFJS = /^@tensorflow\/tfjs(-core|-node|-node-gpu)?$/;

function stringContent(n: Node | null | undefined): string | undefined {
  if (n?.type !== 'string') return undefined;
  return n.namedChildren.find((c) => c?.type === 'string_fragment')?.text ?? '';
}

/** Local name → path inside the tfjs namespace ('' for the namespace itself, 'losses' for `{ losses }`). */
function tfjsNames(root: Node): Map<string, string> {
  const names = new Map<string, string>();
  for (const imp of root.descendantsOfType('import_statement')) {
    if (!imp || !TFJS.test(stringContent(imp.childForFieldName('source')) ?? '')) continue;
    for (const ns of imp.descendantsOfType('namespace_import')) {
      const id = ns?.namedChildren.find((c) => c?.type === 'identifier');
      if (id) names.set(id.text, '');
    }
    for (const spec of imp.descendantsOfType('import_specifier')) {
      const name = spec?.childForFieldName('name')?.text;
      const alias = spec?.childForFieldName('alias')?.text ?? name;
      if (name && alias) names.set(alias, name);
    }
  }
  // `const tf = require('@tensorflow/tfjs')`
  for (const d of root.descendantsOfType('variable_declarator')) {
    const value = d?.childForFieldName('value');
    const name = d?.childForFieldName('name');
    if (value?.type !== 'call_expression' || value.childForFieldName('function')?.text !== 'require' || name?.type !== 'identifier') continue;
    const arg = value.childForFieldName('arguments')?.namedChildren[0];
    if (TFJS.test(stringContent(arg) ?? '')) names.set(name.text, '');
  }
  return names;
}

function qualified(n: Node, names: Map<string, string>): string | undefined {
  if (n.type === 'identifier') {
    const p = names.get(n.text);
    return p === undefined ? undefined : p === '' ? 'tf' : `tf.${p}`;
  }
  if (n.type === 'member_expression') {
    const obj = n.childForFieldName('object');
    const prop = n.childForFieldName('property')?.text;
    const base = obj ? qualified(obj, names) : undefined;
    return base && prop ? `${base}.${prop}` : undefined;
  }
  if (n.type === 'parenthesized_expression' && n.namedChildren[0]) return qualified(n.namedChildren[0], names);
  return undefined;
}

/** A number literal, or a `const` in the file bound to one (only when the name is declared once). */
function numberValue(n: Node, consts: Map<string, Node[]>, depth = 0): number | undefined {
  if (n.type === 'number') {
    const v = Number(n.text.replace(/_/g, ''));
    return Number.isFinite(v) ? v : undefined;
  }
  if (n.type === 'parenthesized_expression' && n.namedChildren[0]) return numberValue(n.namedChildren[0], consts, depth);
  if (n.type === 'unary_expression' && n.childForFieldName('operator')?.type === '-') {
    const arg = n.childForFieldName('argument');
    const v = arg ? numberValue(arg, consts, depth + 1) : undefined;
    return v === undefined ? undefined : -v;
  }
  if (n.type === 'identifier' && depth < 4) {
    const decls = consts.get(n.text);
    return decls?.length === 1 ? numberValue(decls[0], consts, depth + 1) : undefined;
  }
  return undefined;
}

export function ll131Findings(root: Node): RawFinding[] {
  const names = tfjsNames(root);
  if (names.size === 0) return [];
  const consts = new Map<string, Node[]>();
  for (const d of root.descendantsOfType('variable_declarator')) {
    const name = d?.childForFieldName('name');
    const value = d?.childForFieldName('value');
    if (name?.type !== 'identifier') continue;
    const list = consts.get(name.text) ?? [];
    // A declaration without a value (or `let` reassigned later) still counts, so the name stays ambiguous.
    list.push(value && d?.parent?.type === 'lexical_declaration' && d.parent.child(0)?.type === 'const' ? value : name);
    consts.set(name.text, list);
  }
  const out: RawFinding[] = [];
  for (const call of root.descendantsOfType('call_expression')) {
    const fn = call?.childForFieldName('function');
    if (!call || !fn || qualified(fn, names) !== 'tf.losses.softmaxCrossEntropy') continue;
    const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a !== null && a.type !== 'comment') ?? [];
    if (args.some((a) => a.type === 'spread_element')) continue;
    const ls = args[3];
    const alpha = ls ? numberValue(ls, consts) : undefined;
    if (!ls || alpha === undefined || !(alpha > 0)) continue;
    out.push({
      node: call,
      code: 'LL131',
      framework: 'tfjs',
      related: [ls],
      smoothing: alpha,
      message: `${fn.text.replace(/\s+/g, '')}(...) with labelSmoothing=${alpha} trains on smoothed targets, and cross-entropy on simplex-valued targets is not a normalized likelihood of them.`,
    });
  }
  return out;
}
