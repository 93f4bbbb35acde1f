/** Python rules outside core PyTorch: timm (LL105), Keras / TensorFlow (LL111–LL113), optax (LL121). */
import type { Node } from 'web-tree-sitter';
import { callee, type RawFinding } from './finding';
import type { PyTargets } from './pythonTargets';

const NOT_LIKELIHOOD = 'cross-entropy on simplex-valued targets is not a normalized likelihood of them';

function hasSplat(call: Node): boolean {
  return !!call.childForFieldName('arguments')?.namedChildren.some((a) => a?.type === 'list_splat' || a?.type === 'dictionary_splat');
}

/**
 * A smoothing argument: its value when it is a literal (or a name bound to one), the library's
 * default when it is absent and nothing (`**kwargs`) can hide it, undefined when unknown.
 */
function smoothing(t: PyTargets, call: Node, index: number, name: string, dflt: number): { value: number; arg?: Node } | undefined {
  const a = t.arg(call, index, name);
  if (a) {
    const v = t.scope.numberValue(a);
    return v === undefined ? undefined : { value: v, arg: a };
  }
  return hasSplat(call) ? undefined : { value: dflt };
}

/** LL105: timm's LabelSmoothingCrossEntropy / SoftTargetCrossEntropy, and Mixup with label smoothing. */
export function ll105(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  let what: string | undefined;
  let related: Node | undefined;
  let alpha: number | undefined;
  if (name === 'timm.loss.SoftTargetCrossEntropy') {
    what = 'trains cross-entropy on soft (mixup / cutmix / distilled) targets';
  } else if (name === 'timm.loss.LabelSmoothingCrossEntropy') {
    const s = smoothing(t, call, 0, 'smoothing', 0.1);
    if (!s || !(s.value > 0)) return;
    what = `smooths the targets by ${s.value}${s.arg ? '' : " (timm's default)"}`;
    related = s.arg;
    alpha = s.value;
  } else if (name === 'timm.data.Mixup' || name === 'timm.data.FastCollateMixup') {
    const s = smoothing(t, call, 7, 'label_smoothing', 0.1);
    if (!s || !(s.value > 0)) return;
    what = `mixes targets and smooths them by ${s.value}${s.arg ? '' : " (timm's default label_smoothing)"}`;
    related = s.arg;
    alpha = s.value;
  } else return;
  out.push({ node: call, code: 'LL105', framework: 'pytorch', related: [related], smoothing: alpha, message: `timm ${callee(call)} ${what}; ${NOT_LIKELIHOOD}.` });
}

/** LL111: Keras categorical cross-entropy with label_smoothing > 0. */
export function ll111(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  const index: Record<string, number> = {
    'keras.losses.CategoricalCrossentropy': 1,
    'keras.losses.categorical_crossentropy': 3,
    'keras.metrics.categorical_crossentropy': 3,
    'keras.losses.CategoricalFocalCrossentropy': 3,
  };
  const i = name ? index[name] : undefined;
  if (i === undefined) return;
  const a = t.arg(call, i, 'label_smoothing');
  const v = a ? t.scope.numberValue(a) : undefined;
  if (!a || v === undefined || !(v > 0)) return;
  out.push({
    node: call,
    code: 'LL111',
    framework: 'keras',
    related: [a],
    smoothing: v,
    message: `${callee(call)} with label_smoothing=${v} trains on smoothed targets, and ${NOT_LIKELIHOOD}.`,
  });
}

/** LL112: tf.nn.softmax_cross_entropy_with_logits with soft labels. */
export function ll112(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  if (name !== 'tensorflow.nn.softmax_cross_entropy_with_logits' && name !== 'tensorflow.nn.softmax_cross_entropy_with_logits_v2') return;
  const labels = t.arg(call, 0, 'labels');
  const soft = labels ? t.soft(labels) : undefined;
  if (!labels || !soft) return;
  out.push({
    node: call,
    code: 'LL112',
    framework: 'keras',
    related: [labels],
    literalTarget: t.literalTarget(labels),
    message: `${callee(call)} gets soft labels (${soft.what}), and ${NOT_LIKELIHOOD}.`,
  });
}

const KL_FNS = new Set(['keras.losses.kl_divergence', 'keras.losses.KLD', 'keras.losses.kld', 'keras.metrics.kl_divergence']);

/** LL113: Keras KLDivergence for distillation (y_true a teacher's softmax). */
export function ll113(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  const fn = call.childForFieldName('function');
  const isKl = name ? KL_FNS.has(name) : !!fn && t.instanceClass(fn)?.cls === 'keras.losses.KLDivergence';
  if (!isKl) return;
  const yTrue = t.arg(call, 0, 'y_true');
  const soft = yTrue ? t.soft(yTrue) : undefined;
  if (!yTrue || soft?.kind !== 'softmax') return;
  out.push({
    node: call,
    code: 'LL113',
    framework: 'keras',
    related: [yTrue],
    message: `${callee(call)} distills onto teacher probabilities (${soft.what}), which is cross-entropy on soft targets up to a constant, and ${NOT_LIKELIHOOD}.`,
  });
}

/** LL121: optax.softmax_cross_entropy with smoothed or otherwise soft labels. */
export function ll121(call: Node, t: PyTargets, out: RawFinding[]): void {
  const name = t.calleeName(call);
  if (name !== 'optax.softmax_cross_entropy' && name !== 'optax.safe_softmax_cross_entropy') return;
  const labels = t.arg(call, 1, 'labels');
  const soft = labels ? t.soft(labels) : undefined;
  if (!labels || !soft) return;
  out.push({
    node: call,
    code: 'LL121',
    framework: 'optax',
    related: [labels],
    literalTarget: t.literalTarget(labels),
    message: `${callee(call)} gets soft labels (${soft.what}), and ${NOT_LIKELIHOOD}.`,
  });
}
