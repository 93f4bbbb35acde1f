/**
 * LL104's "use the CC loss" rewrite: a hand-written soft cross-entropy `-Σ t·log_softmax(z)` in
 * one of the shapes below becomes cc_nll(z, t, reduction=…). The rule (rulesTorch.ts) is loose on
 * purpose; this matcher is strict, reading the whole flagged expression top-down:
 *
 *   scaled := core-loss ( ('*' | '/') expr )*          the scale is kept as written after the call
 *   core-loss := '-'? ( mean(rows) | sum(rows) | sum(prod) | rows )
 *   rows := '-'? rowsum(prod, d)                        x.sum(d) / torch.sum(x, d) / jnp.sum(x, axis=d) …
 *   prod := '-'? ( t * log_softmax(z, d') | log_softmax(z, d') * t ), t possibly negated
 *
 * with exactly one negation in all, d = d' an integer literal (the class axis: the rewrite passes
 * it to PyTorch's helper as dim=, and the other helpers, which reduce over the last axis, refuse
 * any d but -1), mean/sum taken without arguments, and nothing else anywhere (no
 * keepdim, no dtype, no where=, no division inside the reduction). A total `.sum()` of the
 * product equals the sum of the row sums, so it maps to reduction 'sum'; a total `.mean()` of
 * it averages over classes too (CE / K) and is refused.
 */
import type { Node } from 'web-tree-sitter';
import { bindArgs, type CcRewrite, intLiteral, type Reduction } from './fixPython';
import { SUM } from './pythonNames';
import { unwrap } from './pythonScope';
import type { PyTargets } from './pythonTargets';

const MEAN = new Set(['torch.mean', 'numpy.mean', 'tensorflow.reduce_mean', 'tensorflow.math.reduce_mean', 'keras.ops.mean']);

/** log_softmax's signature per API, and where the class axis goes when it is omitted (undefined: must be given). */
const LOG_SOFTMAX_SIG: Record<string, { sig: string[]; dflt?: number }> = {
  'torch.nn.functional.log_softmax': { sig: ['input', 'dim'] },
  'torch.log_softmax': { sig: ['input', 'dim'] },
  'torch.special.log_softmax': { sig: ['input', 'dim'] },
  'jax.nn.log_softmax': { sig: ['x', 'axis'], dflt: -1 },
  'tensorflow.nn.log_softmax': { sig: ['logits', 'axis'], dflt: -1 },
  'tensorflow.math.log_softmax': { sig: ['logits', 'axis'], dflt: -1 },
  'keras.ops.log_softmax': { sig: ['x', 'axis'], dflt: -1 },
};

interface State {
  t: PyTargets;
  neg: number;
}

function op(n: Node): string | undefined {
  return n.childForFieldName('operator')?.type;
}

/** Peels unary minus (counting them) and parentheses. */
function peel(n: Node, s: State): Node {
  let e = unwrap(n);
  while (e.type === 'unary_operator' && op(e) === '-') {
    s.neg++;
    const a = e.childForFieldName('argument');
    if (!a) break;
    e = unwrap(a);
  }
  return e;
}

/** `x.m(args)` → the object and the bound args; `f(x, args)` with f in names → likewise. */
function reduction(call: Node, s: State, method: string, fns: Set<string>, sig: string[]): { x: Node; args: Map<string, Node> } | undefined {
  if (call.type !== 'call') return undefined;
  const fn = call.childForFieldName('function');
  const name = s.t.calleeName(call);
  if (name && fns.has(name)) {
    const args = bindArgs(call, ['x', ...sig], ['x', ...sig]);
    const x = args?.get('x');
    if (!args || !x) return undefined;
    args.delete('x');
    return { x, args };
  }
  if (name || fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== method) return undefined;
  const x = fn.childForFieldName('object');
  const args = bindArgs(call, sig, sig);
  return x && args ? { x, args } : undefined;
}

/** The reduction axis of a row sum: one positional or `dim=` / `axis=` argument, an integer literal. */
function axisOf(args: Map<string, Node>): number | undefined {
  if (args.size !== 1) return undefined;
  return intLiteral(args.get('dim') ?? args.get('axis'));
}

/** The product t · log_softmax(z, d): its logits, target and axis. */
function product(n: Node, s: State): { logits: string; target: string; dim: number } | undefined {
  const e = peel(n, s);
  if (e.type !== 'binary_operator' || op(e) !== '*') return undefined;
  const left = e.childForFieldName('left');
  const right = e.childForFieldName('right');
  if (!left || !right) return undefined;
  const l = logSoftmax(unwrap(left), s);
  const r = logSoftmax(unwrap(right), s);
  if ((l && r) || (!l && !r)) return undefined;
  const ls = (l ?? r)!;
  const target = peel(l ? right : left, s);
  return { logits: ls.logits, target: target.text, dim: ls.dim };
}

function logSoftmax(e: Node, s: State): { logits: string; dim: number } | undefined {
  if (e.type !== 'call') return undefined;
  const name = s.t.calleeName(e);
  if (name) {
    const api = LOG_SOFTMAX_SIG[name];
    const args = api ? bindArgs(e, api.sig, api.sig) : undefined;
    const x = args?.get(api.sig[0]);
    const d = args?.has(api.sig[1]) ? intLiteral(args.get(api.sig[1])) : api?.dflt;
    return x && d !== undefined ? { logits: x.text, dim: d } : undefined;
  }
  // `logits.log_softmax(1)`: torch's tensor method, whose dim has no usable default.
  const fn = e.childForFieldName('function');
  const obj = fn?.childForFieldName('object');
  if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'log_softmax' || !obj) return undefined;
  const args = bindArgs(e, ['dim'], ['dim']);
  const d = intLiteral(args?.get('dim'));
  return d === undefined ? undefined : { logits: obj.text, dim: d };
}

function rowSum(n: Node, s: State): { logits: string; target: string; dim: number } | undefined {
  const e = peel(n, s);
  const r = reduction(e, s, 'sum', SUM, ['dim', 'axis']);
  const d = r ? axisOf(r.args) : undefined;
  const p = r && d !== undefined ? product(r.x, s) : undefined;
  return p && p.dim === d ? p : undefined;
}

function coreLoss(n: Node, s: State): (CcRewrite & { dim: number }) | undefined {
  const e = peel(n, s);
  const noArgs = (r: { args: Map<string, Node> } | undefined) => r && r.args.size === 0;
  const mean = reduction(e, s, 'mean', MEAN, []);
  if (noArgs(mean)) {
    const rows = rowSum(mean!.x, s);
    return rows && { ...rows, reduction: 'mean' };
  }
  const total = reduction(e, s, 'sum', SUM, []);
  if (noArgs(total)) {
    // Σ over everything: either of the row sums, or of the product directly (the same number).
    const saved = s.neg;
    const rows = rowSum(total!.x, s);
    if (rows) return { ...rows, reduction: 'sum' };
    s.neg = saved;
    const p = product(total!.x, s);
    return p && { ...p, reduction: 'sum' };
  }
  const rows = rowSum(e, s);
  return rows && { ...rows, reduction: 'none' as Reduction };
}

export function rewriteLl104(node: Node, t: PyTargets): CcRewrite | undefined {
  const suffix: string[] = [];
  let e = unwrap(node);
  // A trailing scale (`… .mean() * 0.5`, `/ B`) is kept as written after the new call.
  while (e.type === 'binary_operator' && (op(e) === '*' || op(e) === '/')) {
    const left = e.childForFieldName('left');
    const right = e.childForFieldName('right');
    const s: State = { t, neg: 0 };
    if (!left || !right || coreLoss(left, s) === undefined) break;
    suffix.unshift(` ${op(e)} ${right.text}`);
    e = unwrap(left);
  }
  const s: State = { t, neg: 0 };
  const r = coreLoss(e, s);
  if (!r || s.neg !== 1) return undefined;
  // The class axis goes to the helper unless it is -1 (the helpers' default).
  return { logits: r.logits, target: r.target, reduction: r.reduction, suffix: suffix.join('') || undefined, dim: r.dim === -1 ? undefined : r.dim };
}
