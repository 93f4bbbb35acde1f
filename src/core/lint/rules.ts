/** The rule catalogue: one summary and one markdown explanation per stable code (hovers, README, CLI). */
import type { Framework, RuleCode, RuleInfo } from './types';

const WHY = `Cross-entropy \`-Σₖ tₖ log pₖ\` is the negative log-likelihood of a *class index*: with a one-hot
target it is \`-log p_y\`, a normalized likelihood. With a target on the simplex (label smoothing,
mixup, a teacher's softmax) it is no longer the log-density of any distribution over those targets:
nothing integrates to one over the simplex, so the loss value is not a likelihood, its minimizer is
the target itself rather than a calibrated model of it, and losses of different smoothing or
temperature are not comparable.`;

const CC = `The **continuous categorical (CC)** distribution is a proper density on the simplex whose
log-density has the same \`Σₖ tₖ log pₖ\` term plus a log-normalizer \`log C(λ)\` that depends on the
predicted probabilities λ. Its negative log-likelihood is a normalized likelihood for soft targets,
and Loss Lens ships a numerically stable helper for each framework (the "use the CC loss" fix).`;

const HAZARD = `**Near-uniform hazard.** \`1/C(λ)\` is a sum of terms \`λₖ / Πⱼ≠ₖ(log λₖ - log λⱼ)\` that cancel
catastrophically when the predicted probabilities are close to each other, exactly where smoothed
or high-temperature targets push a model. A naive normalizer returns garbage (or ±inf) there; the
helpers switch to a series that stays accurate at uniform λ. Use **Loss Lens: Check CC Normalizer**
on a literal target to see the value.`;

const SUPPRESS = (code: string, comment: string): string =>
  `**When suppressing is fine.** When the loss is used as a regularizer or a training trick and its
value is never read as a likelihood (no model selection, calibration or comparison across smoothing
levels on it), keep it and add \`${comment} ${code}\` on the line.`;

function info(code: RuleCode, framework: Framework, summary: string, what: string): RuleInfo {
  const comment = framework === 'tfjs' ? '// loss-lens-ignore' : '# noqa:';
  return { code, framework, summary, explanation: [`**${code}** ${what}`, WHY, CC, HAZARD, SUPPRESS(code, comment)].join('\n\n') };
}

export const RULES: Record<RuleCode, RuleInfo> = {
  LL101: info(
    'LL101',
    'pytorch',
    'nn.CrossEntropyLoss / F.cross_entropy with label_smoothing > 0',
    'flags `nn.CrossEntropyLoss(label_smoothing=α)` and `F.cross_entropy(..., label_smoothing=α)` with α > 0 (keyword or positional): the targets become `(1-α)·one-hot + α/K`.',
  ),
  LL102: info(
    'LL102',
    'pytorch',
    'F.cross_entropy / a CrossEntropyLoss instance called with probability targets',
    'flags cross-entropy whose target is resolved as probabilities: a softmax output, smoothed labels, a mixup, a convex combination of labels, or a literal row that is not one-hot.',
  ),
  LL103: info(
    'LL103',
    'pytorch',
    "nn.KLDivLoss / F.kl_div on teacher probabilities (and the reduction='mean' pitfall)",
    "flags knowledge distillation with `KLDivLoss` / `F.kl_div` against a teacher's softmax. KL(t‖p) is cross-entropy on the soft target minus the target's entropy, so the same caveat applies. With `reduction='mean'` (the default) PyTorch divides by every element rather than the batch size, which is not the KL divergence: the docs say to use `reduction='batchmean'`.",
  ),
  LL104: info(
    'LL104',
    'pytorch',
    'hand-written soft cross-entropy -(t * log_softmax(z)).sum(...)',
    'flags `-(t * F.log_softmax(z, 1)).sum(1)`, `torch.sum(-t * torch.log_softmax(z, 1), dim=1)` and kin when `t` is resolved as soft, or is not known to be one-hot (`F.one_hot`, `torch.eye(K)[y]` are not flagged).',
  ),
  LL105: info(
    'LL105',
    'pytorch',
    'timm LabelSmoothingCrossEntropy, SoftTargetCrossEntropy, Mixup(label_smoothing > 0)',
    "flags timm's `LabelSmoothingCrossEntropy` (smoothing > 0, default 0.1), `SoftTargetCrossEntropy`, and `Mixup` / `FastCollateMixup` with `label_smoothing` > 0 (timm's default is 0.1).",
  ),
  LL111: info(
    'LL111',
    'keras',
    'Keras CategoricalCrossentropy / categorical_crossentropy with label_smoothing > 0',
    'flags `keras.losses.CategoricalCrossentropy(label_smoothing=α)` and `categorical_crossentropy(..., label_smoothing=α)` with α > 0, from `keras`, `tf.keras` or `tf.losses`.',
  ),
  LL112: info(
    'LL112',
    'keras',
    'tf.nn.softmax_cross_entropy_with_logits with soft labels',
    '`tf.nn.softmax_cross_entropy_with_logits(labels=..., logits=...)` where `labels` is resolved as soft (a softmax, a mixup, smoothed or literal soft labels).',
  ),
  LL113: info(
    'LL113',
    'keras',
    'keras.losses.KLDivergence / kl_divergence for distillation',
    "flags `keras.losses.KLDivergence()` instances and `kl_divergence(y_true, y_pred)` whose `y_true` is a teacher's softmax: distillation, i.e. cross-entropy on soft targets up to the teacher's entropy.",
  ),
  LL121: info(
    'LL121',
    'optax',
    'optax.softmax_cross_entropy with smoothed or soft labels',
    '`optax.softmax_cross_entropy(logits, labels)` where `labels` comes from `optax.smooth_labels(...)`, a softmax, a mixup or another soft source. (`softmax_cross_entropy_with_integer_labels` is never flagged.)',
  ),
  LL131: info(
    'LL131',
    'tfjs',
    'TensorFlow.js tf.losses.softmaxCrossEntropy with labelSmoothing > 0',
    'flags `tf.losses.softmaxCrossEntropy(labels, logits, weights, labelSmoothing)` with `labelSmoothing` > 0, with `@tensorflow/tfjs` imported under any name.',
  ),
};
