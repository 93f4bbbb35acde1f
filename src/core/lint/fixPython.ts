/**
 * The call rewrites of the "use the CC loss" quick fix for Python (LL102, LL112, LL121; LL104 in
 * fixHandWritten.ts). Each returns the logits and target expressions (source text, verbatim) and
 * the reduction, or undefined when the call has anything the CC helper cannot reproduce: a
 * refusal always beats a rewrite that changes what the code computes in a way the user did not
 * ask for. The replaced range is the flagged node itself.
 */
import type { Node } from 'web-tree-sitter';
import { unwrap } from './pythonScope';
import type { PyTargets } from './pythonTargets';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CcRewrite {
  logits: string;
  target: string;
  reduction: Reduction;
  /** The reduction literal as the user wrote it (their quotes), when they wrote one. */
  reductionText?: string;
  /** Text after the call: a scale the user applied (`* 0.5`), kept as written. */
  suffix?: string;
  /** The class axis when it is not the last one (PyTorch's helper takes `dim=`). */
  dim?: number;
}

/** A call's arguments: positional in order, keywords by name; undefined when a splat hides any. */
export function pyArgs(call: Node): { pos: Node[]; kw: Map<string, Node> } | undefined {
  const list = call.childForFieldName('arguments');
  if (list?.type !== 'argument_list') return undefined;
  const pos: Node[] = [];
  const kw = new Map<string, Node>();
  for (const a of list.namedChildren) {
    if (!a || a.type === 'comment') continue;
    if (a.type === 'list_splat' || a.type === 'dictionary_splat') return undefined;
    if (a.type === 'keyword_argument') {
      const name = a.childForFieldName('name')?.text;
      const value = a.childForFieldName('value');
      if (!name || !value || kw.has(name)) return undefined;
      kw.set(name, value);
    } else {
      // A positional argument after a keyword is a syntax error; generator arguments are not tensors.
      if (kw.size > 0 || a.type === 'generator_expression') return undefined;
      pos.push(a);
    }
  }
  return { pos, kw };
}

/**
 * The parameters a call binds, by the callee's signature (names in order), when every argument
 * is one of `allowed` and nothing is passed twice; undefined otherwise.
 */
export function bindArgs(call: Node, signature: string[], allowed: string[]): Map<string, Node> | undefined {
  const args = pyArgs(call);
  if (!args || args.pos.length > signature.length) return undefined;
  const bound = new Map<string, Node>();
  args.pos.forEach((a, i) => bound.set(signature[i], a));
  for (const [name, v] of args.kw) {
    if (bound.has(name) || !signature.includes(name)) return undefined;
    bound.set(name, v);
  }
  for (const name of bound.keys()) if (!allowed.includes(name)) return undefined;
  return bound;
}

/** A literal 'mean' / 'sum' / 'none' (a plain string, no f-string, no name bound to one). */
function literalReduction(n: Node | undefined): { reduction: Reduction; text?: string } | undefined {
  if (!n) return { reduction: 'mean' };
  const e = unwrap(n);
  if (e.type !== 'string' || e.namedChildren.some((c) => c?.type === 'interpolation')) return undefined;
  const v = e.namedChildren.find((c) => c?.type === 'string_content')?.text;
  if (/^[a-zA-Z]*[fFbB]/.test(e.text)) return undefined;
  return v === 'mean' || v === 'sum' || v === 'none' ? { reduction: v, text: e.text } : undefined;
}

/** An integer literal, possibly negated: the `dim` / `axis` arguments that the fixes accept. */
export function intLiteral(n: Node | undefined): number | undefined {
  if (!n) return undefined;
  const e = unwrap(n);
  if (e.type === 'integer') return Number(e.text);
  if (e.type === 'unary_operator' && e.childForFieldName('operator')?.type === '-') {
    const a = e.childForFieldName('argument');
    return a?.type === 'integer' ? -Number(a.text) : undefined;
  }
  return undefined;
}

const CE_FN = 'torch.nn.functional.cross_entropy';
const CE_CLASS = 'torch.nn.CrossEntropyLoss';
const CE_FN_SIG = ['input', 'target', 'weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing'];
const CE_CLASS_SIG = ['weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing'];

/**
 * LL102: `F.cross_entropy(logits, soft[, reduction='…'])` or `criterion(logits, soft)` with
 * `criterion = nn.CrossEntropyLoss([reduction='…'])`. Refused: weight (CC has no class weights),
 * label_smoothing on top of soft targets (CC would need the smoothed target built at the call),
 * ignore_index / size_average / reduce (meaningless or deprecated with probability targets, and
 * a sign the author expects something cc_nll does not do), a reduction that is not a literal,
 * positional constructor arguments, and instances whose constructor is not found in the file.
 * cross_entropy's class axis is 1 (the last for (N, C) logits, not for (N, C, d…)): the rewrite
 * passes dim=1, so it means the same whatever the rank.
 */
export function rewriteLl102(call: Node, t: PyTargets): CcRewrite | undefined {
  if (call.type !== 'call') return undefined;
  const name = t.calleeName(call);
  let reduction: Node | undefined;
  let bound: Map<string, Node> | undefined;
  if (name === CE_FN) {
    bound = bindArgs(call, CE_FN_SIG, ['input', 'target', 'reduction']);
    reduction = bound?.get('reduction');
  } else {
    const fn = call.childForFieldName('function');
    const inst = !name && fn ? t.instanceClass(fn) : undefined;
    if (inst?.cls !== CE_CLASS) return undefined;
    const ctor = bindArgs(inst.ctor, CE_CLASS_SIG, ['reduction']);
    if (!ctor || (pyArgs(inst.ctor)?.pos.length ?? 1) > 0) return undefined;
    reduction = ctor.get('reduction');
    bound = bindArgs(call, ['input', 'target'], ['input', 'target']);
  }
  const logits = bound?.get('input');
  const target = bound?.get('target');
  const red = literalReduction(reduction);
  if (!logits || !target || !red) return undefined;
  return { logits: logits.text, target: target.text, reduction: red.reduction, reductionText: red.text, dim: 1 };
}

/**
 * LL112: `tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=z)` gives one value per row,
 * which is cc_nll(z, t, reduction='none'). Refused: an axis other than a literal -1 (cc_nll works
 * on the last axis), `name=` (no place for it), TF1's `dim=` / `_sentinel`.
 */
export function rewriteLl112(call: Node, t: PyTargets): CcRewrite | undefined {
  const name = t.calleeName(call);
  if (name !== 'tensorflow.nn.softmax_cross_entropy_with_logits' && name !== 'tensorflow.nn.softmax_cross_entropy_with_logits_v2') return undefined;
  const bound = bindArgs(call, ['labels', 'logits', 'axis', 'name'], ['labels', 'logits', 'axis']);
  return rowsRewrite(bound, 'labels', 'logits', 'axis');
}

/**
 * LL121: `optax.softmax_cross_entropy(logits, labels)` gives one value per row: cc_nll(…,
 * reduction='none'). Refused: an axis other than a literal -1, `where=` (a mask cc_nll lacks).
 */
export function rewriteLl121(call: Node, t: PyTargets): CcRewrite | undefined {
  const name = t.calleeName(call);
  if (name !== 'optax.softmax_cross_entropy' && name !== 'optax.safe_softmax_cross_entropy') return undefined;
  const bound = bindArgs(call, ['logits', 'labels', 'axis', 'where'], ['logits', 'labels', 'axis']);
  return rowsRewrite(bound, 'labels', 'logits', 'axis');
}

function rowsRewrite(bound: Map<string, Node> | undefined, targetName: string, logitsName: string, axisName: string): CcRewrite | undefined {
  const logits = bound?.get(logitsName);
  const target = bound?.get(targetName);
  const axis = bound?.get(axisName);
  if (!logits || !target || (axis && intLiteral(axis) !== -1)) return undefined;
  return { logits: logits.text, target: target.text, reduction: 'none' };
}
