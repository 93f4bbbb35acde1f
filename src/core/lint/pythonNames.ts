/**
 * Canonical names of the Python APIs the rules know. Libraries re-export the same object under
 * several paths (tf.keras.losses, keras.src.losses, torch.nn.modules.loss, …); the rules compare
 * against one spelling, so every resolved name goes through canonical() first.
 */

const PREFIXES: [string, string][] = [
  ['torch.nn.modules.loss.', 'torch.nn.'],
  ['torch.nn.modules.activation.', 'torch.nn.'],
  ['tensorflow.python.keras.', 'keras.'],
  ['tensorflow.keras.', 'keras.'],
  ['tf_keras.', 'keras.'],
  ['keras.src.', 'keras.'],
  // TF 2 exposes the Keras losses as tf.losses too.
  ['tensorflow.losses.', 'keras.losses.'],
  ['keras.api.', 'keras.'],
  ['timm.loss.cross_entropy.', 'timm.loss.'],
  ['timm.data.mixup.', 'timm.data.'],
  ['optax.losses.', 'optax.'],
  ['optax._src.loss.', 'optax.'],
  ['torchvision.transforms.v2._augment.', 'torchvision.transforms.v2.'],
  ['jax.numpy.', 'numpy.'],
  ['flax.linen.', 'jax.nn.'],
];

export function canonical(name: string): string {
  for (const [from, to] of PREFIXES) if (name.startsWith(from)) return to + name.slice(from.length);
  return name;
}

export const SOFTMAX = new Set([
  'torch.softmax',
  'torch.nn.functional.softmax',
  'torch.special.softmax',
  'jax.nn.softmax',
  'scipy.special.softmax',
  'tensorflow.nn.softmax',
  'tensorflow.math.softmax',
  'keras.activations.softmax',
  'keras.ops.softmax',
  'keras.backend.softmax',
]);

export const LOG_SOFTMAX = new Set([
  'torch.log_softmax',
  'torch.nn.functional.log_softmax',
  'torch.special.log_softmax',
  'jax.nn.log_softmax',
  'tensorflow.nn.log_softmax',
  'tensorflow.math.log_softmax',
  'keras.ops.log_softmax',
]);

export const ONE_HOT = new Set([
  'torch.nn.functional.one_hot',
  'jax.nn.one_hot',
  'tensorflow.one_hot',
  'keras.ops.one_hot',
  'keras.utils.to_categorical',
  'keras.utils.np_utils.to_categorical',
]);

export const EYE = new Set(['torch.eye', 'numpy.eye', 'tensorflow.eye']);

export const SUM = new Set(['torch.sum', 'numpy.sum', 'tensorflow.reduce_sum', 'tensorflow.math.reduce_sum', 'keras.ops.sum']);

export const LOG = new Set(['torch.log', 'numpy.log', 'tensorflow.math.log', 'keras.ops.log']);
export const EXP = new Set(['torch.exp', 'numpy.exp', 'tensorflow.exp', 'tensorflow.math.exp', 'keras.ops.exp']);

/** Tensor constructors whose first argument may be a literal target. */
export const TENSOR_CTORS = new Set([
  'torch.tensor',
  'torch.as_tensor',
  'torch.Tensor',
  'torch.FloatTensor',
  'numpy.array',
  'numpy.asarray',
  'tensorflow.constant',
  'tensorflow.convert_to_tensor',
]);

/** Calls that return (inputs, soft targets): timm's Mixup and torchvision's v2 MixUp / CutMix. */
export const MIXUP = new Set([
  'timm.data.Mixup',
  'timm.data.FastCollateMixup',
  'torchvision.transforms.v2.MixUp',
  'torchvision.transforms.v2.CutMix',
]);

export const STOP_GRADIENT = new Set(['jax.lax.stop_gradient', 'tensorflow.stop_gradient']);

/** Methods that keep a tensor's values (dtype, device, graph): a soft target stays soft through them. */
export const PASS_METHODS = new Set([
  'to',
  'float',
  'double',
  'half',
  'bfloat16',
  'detach',
  'cuda',
  'cpu',
  'clone',
  'type_as',
  'type',
  'contiguous',
  'astype',
  'numpy',
]);

/** Methods that return the module itself: `nn.CrossEntropyLoss().to(device)` is still the loss. */
export const MODULE_METHODS = new Set(['to', 'cuda', 'cpu', 'train', 'eval', 'float', 'double', 'half']);
