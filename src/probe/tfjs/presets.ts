/**
 * The preset models a probe trains (a PyTorch twin mirrors them layer for layer). Each outputs
 * logits: the trainer applies its own losses (CE, CC) on them.
 */
import type { Scalar } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { PresetName, PresetOptions } from '../../shared/probeProtocol';
import type { TfjsRuntime } from './backend';

/**
 * BatchNorm as PyTorch's defaults (momentum 0.1 there is 0.9 here; eps 1e-5), so the twins
 * match; Keras' own defaults (0.99, 1e-3) differ.
 */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

export function buildPreset(
  rt: TfjsRuntime,
  name: PresetName,
  options: PresetOptions,
  inputShape: number[],
  classes: number,
  seed: number,
): { model: LayersModel; description: string } {
  const { tf } = rt;
  const { hidden, batchNorm, dropout, weightDecay } = options;
  if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`preset ${name}: hidden units must be a positive integer (got ${hidden})`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`preset ${name}: dropout must be in [0, 1) (got ${dropout})`);
  if (!(weightDecay >= 0)) throw new Error(`preset ${name}: weight decay must be ≥ 0 (got ${weightDecay})`);
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`preset ${name}: needs at least 2 classes (got ${classes})`);
  // Every initializer gets its own seed derived from the run's seed, so a build is reproducible
  // and two layers of the same shape do not start equal.
  let next = 0;
  const init = () => tf.initializers.glorotUniform({ seed: seed * 1000 + next++ });
  const reg = weightDecay > 0 ? () => tf.regularizers.l2({ l2: weightDecay / 2 }) : () => undefined;
  // The first layer without BatchNorm takes its ReLU as its own activation. tfjs runs a layer
  // with a bias and no activation as one fused op whose gradient also computes the gradient
  // with respect to the layer's input, needed or not; with an activation, training runs it as
  // separate ops, whose gradients are computed only where needed, and the first layer's input
  // (the data) needs none. On the cnn preset that input gradient was a 3×3 conv of the whole
  // batch, about 7% of a wasm training step.
  const dense = (units: number, relu = false) =>
    tf.layers.dense({ units, activation: relu ? 'relu' : undefined, kernelInitializer: init(), biasInitializer: 'zeros', kernelRegularizer: reg() });
  const conv = (filters: number, relu = false) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: relu ? 'relu' : undefined, kernelInitializer: init(), biasInitializer: 'zeros', kernelRegularizer: reg() });
  const bn = () => tf.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: BN_EPSILON });

  const stack: Layer[] = [];
  /** A layer, then BatchNorm, ReLU and dropout as the options say (ReLU already in `layer` when reluInside). */
  const block = (layer: Layer, withDropout: boolean, reluInside = false) => {
    stack.push(layer);
    if (batchNorm) stack.push(bn());
    if (!reluInside) stack.push(tf.layers.reLU());
    if (withDropout && dropout > 0) stack.push(tf.layers.dropout({ rate: dropout, seed: seed * 1000 + next++ }));
  };
  let summary: string;
  if (name === 'mlp') {
    // tfjs' Flatten refuses rows that are already flat (PyTorch's is a no-op there).
    stack.push(inputShape.length > 1 ? tf.layers.flatten({ inputShape }) : tf.layers.inputLayer({ inputShape }));
    block(dense(hidden, !batchNorm), true, !batchNorm);
    block(dense(hidden), true);
    summary = `MLP ${inputShape.reduce((a, b) => a * b, 1)}-${hidden}-${hidden}-${classes}`;
  } else if (name === 'cnn') {
    if (inputShape.length !== 3) {
      throw new Error(`preset cnn needs image rows [height, width, channels]; the data's rows have shape [${inputShape.join(', ')}] (use the mlp preset for flat features)`);
    }
    const [h, w] = inputShape;
    if (h < 4 || w < 4) throw new Error(`preset cnn needs images of at least 4×4 (two 2×2 poolings); got ${h}×${w}`);
    stack.push(tf.layers.inputLayer({ inputShape }));
    block(conv(32, !batchNorm), false, !batchNorm);
    stack.push(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    block(conv(64), false);
    stack.push(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    stack.push(tf.layers.flatten());
    block(dense(hidden), true);
    summary = `CNN conv32-pool-conv64-pool-${hidden}-${classes} on ${inputShape.join('×')}`;
  } else {
    throw new Error(`unknown preset '${String(name)}' (presets: mlp, cnn)`);
  }
  stack.push(dense(classes));
  const model = tf.sequential({ layers: stack, name: `${name}_preset` });
  const extras = [batchNorm ? 'BatchNorm' : '', dropout > 0 ? `dropout ${dropout}` : '', weightDecay > 0 ? `weight decay ${weightDecay}` : '']
    .filter(Boolean)
    .join(', ');
  const params = model.countParams();
  return { model, description: `${summary}${extras ? ` (${extras})` : ''}, ${params.toLocaleString('en-US')} parameters` };
}

/**
 * The sum of the model's regularization losses (the kernels' L2 terms), or null when it has
 * none. Call it inside the function given to optimizer.minimize so its gradient is taken.
 */
export function regularizationLoss(rt: TfjsRuntime, model: LayersModel): Scalar | null {
  const losses = model.calculateLosses();
  if (losses.length === 0) return null;
  return losses.length === 1 ? losses[0] : rt.tf.addN<Scalar>(losses);
}
