/** PyTorch rules LL101–LL104: one function per rule, each looking at one call. */
import type { Node } from 'web-tree-sitter';
import { callee, type RawFinding } from './finding';
import { SUM } from './pythonNames';
import { unwrap } from './pythonScope';
import type { PyTargets } from './pythonTargets';
import type { Framework } from './types';

const CE_CLASS = 'torch.nn.CrossEntropyLoss';
const CE_FN = 'torch.nn.functional.cross_entropy';
const KL_CLASS = 'torch.nn.KLDivLoss';
const KL_FN = 'torch.nn.functional.kl_div';

const NOT_LIKELIHOOD = 'cross-entropy on simplex-valued targets is not a normalized likelihood of them';

/** LL101: label_smoothing > 0, keyword or positional (CrossEntropyLoss: 6th parameter; F.cross_entropy: 8th). */
export function ll101(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  const ls = name === CE_CLASS ? t.arg(call, 5, 'label_smoothing') : name === CE_FN ? t.arg(call, 7, 'label_smoothing') : undefined;
  const alpha = ls ? t.scope.numberValue(ls) : undefined;
  if (!ls || alpha === undefined || !(alpha > 0)) return;
  out.push({
    node: call,
    code: 'LL101',
    framework: 'pytorch',
    related: [ls],
    smoothing: alpha,
    message: `${callee(call)} with label_smoothing=${alpha} trains on smoothed targets (1-α)·one-hot + α/K, and ${NOT_LIKELIHOOD}.`,
  });
}

/** The target argument of a cross-entropy call: F.cross_entropy(input, target) or a CrossEntropyLoss instance. */
function ceTarget(call: Node, t: PyTargets): Node | undefined {
  const name = t.calleeName(call);
  if (name === CE_FN) return t.arg(call, 1, 'target');
  const fn = call.childForFieldName('function');
  if (!name && fn && t.instanceClass(fn)?.cls === CE_CLASS) return t.arg(call, 1, 'target');
  return undefined;
}

/** LL102: cross-entropy called with probability targets. */
export function ll102(call: Node, t: PyTargets, out: RawFinding[]): void {
  const target = ceTarget(call, t);
  const soft = target ? t.soft(target) : undefined;
  if (!target || !soft) return;
  out.push({
    node: call,
    code: 'LL102',
    framework: 'pytorch',
    related: [target],
    literalTarget: t.literalTarget(target),
    message: `${callee(call)} gets probability targets (${soft.what}), and ${NOT_LIKELIHOOD}.`,
  });
}

/** LL103: KL distillation onto teacher probabilities, and the reduction='mean' pitfall. */
export function ll103(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  const fn = call.childForFieldName('function');
  let reduction: Node | undefined;
  let logTarget: Node | undefined;
  if (name === KL_FN) {
    reduction = t.arg(call, 4, 'reduction');
    logTarget = t.arg(call, 5, 'log_target');
  } else if (!name && fn) {
    const inst = t.instanceClass(fn);
    if (inst?.cls !== KL_CLASS) return;
    reduction = t.arg(inst.ctor, 2, 'reduction');
    logTarget = t.arg(inst.ctor, 3, 'log_target');
  } else return;
  // log_target=True expects log-probabilities: a softmax target there is another bug, not this one.
  if (logTarget && unwrap(logTarget).text !== 'False') return;
  const target = t.arg(call, 1, 'target');
  const soft = target ? t.soft(target) : undefined;
  if (!target || soft?.kind !== 'softmax') return;
  const red = reduction ? t.scope.stringValue(reduction) : 'mean';
  const pitfall =
    red === 'mean'
      ? `; reduction='mean'${reduction ? '' : ' (the default)'} averages over every element, not the batch, so the value is not the KL divergence (PyTorch's docs: use 'batchmean')`
      : '';
  out.push({
    node: call,
    code: 'LL103',
    framework: 'pytorch',
    related: [target],
    message: `${callee(call)} distills onto teacher probabilities (${soft.what}), which is cross-entropy on simplex-valued targets up to a constant${pitfall}.`,
  });
}

function op(n: Node): string | undefined {
  return n.childForFieldName('operator')?.type;
}

function frameworkOf(name: string | undefined): Framework {
  if (name?.startsWith('jax.')) return 'optax';
  if (name?.startsWith('tensorflow.') || name?.startsWith('keras.')) return 'keras';
  return 'pytorch';
}

/**
 * LL104: `-(t * log_softmax(z)).sum(1)`, `torch.sum(-t * log_softmax(z), dim=1)` and kin. Starting
 * at the log_softmax call, walk up through the product, a negation and a sum; the target is the
 * product's other factor.
 */
export function ll104(call: Node, t: PyTargets, out: RawFinding[]): void {
  if (!t.isLogSoftmaxCall(call)) return;
  let cur: Node = call;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  const prod = cur.parent;
  if (prod?.type !== 'binary_operator' || op(prod) !== '*') return;
  const other = prod.childForFieldName('left')?.id === cur.id ? prod.childForFieldName('right') : prod.childForFieldName('left');
  if (!other) return;
  let target = unwrap(other);
  let negated = false;
  if (target.type === 'unary_operator' && op(target) === '-') {
    negated = true;
    target = target.childForFieldName('argument') ?? target;
  }
  let summed = false;
  cur = prod;
  for (let steps = 0; steps < 12 && cur.parent; steps++) {
    const p: Node = cur.parent;
    if (p.type === 'parenthesized_expression') cur = p;
    else if (p.type === 'unary_operator' && op(p) === '-') {
      negated = true;
      cur = p;
    } else if (p.type === 'attribute' && p.childForFieldName('object')?.id === cur.id && p.parent?.type === 'call') {
      // `(...).sum(1)`, `.mean()`: the method call wraps the expression.
      const m = p.childForFieldName('attribute')?.text;
      if (m !== 'sum' && m !== 'mean') break;
      summed ||= m === 'sum';
      cur = p.parent;
    } else if (p.type === 'argument_list' && p.parent?.type === 'call') {
      const name = t.calleeName(p.parent);
      if (!name || (!SUM.has(name) && !/\.(mean|reduce_mean)$/.test(name))) break;
      summed ||= SUM.has(name);
      cur = p.parent;
    } else if (p.type === 'binary_operator' && (op(p) === '/' || op(p) === '*') && p.childForFieldName('left')?.id === cur.id) {
      cur = p;
    } else break;
  }
  if (!summed || !negated || t.oneHot(target)) return;
  const soft = t.soft(target);
  const about = soft ? `the target is ${soft.what}` : `the target \`${target.text}\` is not known to be one-hot`;
  out.push({
    node: cur,
    code: 'LL104',
    framework: frameworkOf(t.calleeName(call)),
    related: [call, target],
    literalTarget: t.literalTarget(target),
    message: `Hand-written soft cross-entropy -Σ t·log_softmax(z) where ${about}; ${NOT_LIKELIHOOD}.`,
  });
}
