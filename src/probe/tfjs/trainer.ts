/**
 * One training run on tfjs: a fresh model, an optimizer, N steps of seeded minibatches with the
 * run's loss, logits of held-out rows every `evalEvery` steps. The loop yields to the event loop
 * after every step so that a cancel message reaches the worker within a step.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { Rng } from '../../core/probe/rng';
import type { LossFamily, RunStatus } from '../../shared/probeProtocol';
import { DivergedError, lossFunction } from './ccLoss';
import type { TfjsRuntime } from './backend';
import { regularizationLoss } from './presets';

export interface TfjsRunInput {
  rt: TfjsRuntime;
  model: LayersModel;
  family: LossFamily;
  seed: number;
  inputShape: number[];
  classes: number;
  xTrain: Float32Array;
  trainRows: number;
  /** Training targets of this run's kind, trainRows × K. */
  targets: Float32Array;
  /** Held-out inputs to evaluate (already cut to evalRows). */
  xEval: Float32Array;
  evalRows: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  evalEvery: number;
  signal: AbortSignal;
  onSteps: (steps: number[], losses: number[]) => void;
  onEval: (step: number, logits: Float32Array) => void;
}

export interface TfjsRunResult {
  status: RunStatus;
  message?: string;
  /**
   * Seconds spent in training steps, evaluations excluded. The first step (kernel compilation,
   * wasm warm-up) is left out and the rest scaled to all steps, so steps/s is the steady rate.
   */
  trainSeconds: number;
  stepsDone: number;
}

const FLUSH_STEPS = 10;
const FLUSH_MS = 250;
const EVAL_BATCH = 256;

const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function trainTfjsRun(input: TfjsRunInput): Promise<TfjsRunResult> {
  const { rt, model, classes: K } = input;
  const tf = rt.tf as unknown as typeof tfc;
  const rowSize = input.inputShape.reduce((a, b) => a * b, 1);
  const B = Math.min(input.batchSize, input.trainRows);
  const lossFn = lossFunction(tf, input.family);
  const optimizer = input.optimizer === 'adam' ? tf.train.adam(input.learningRate) : tf.train.sgd(input.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tfc.Variable);
  // The run's seed orders its minibatches (the data's own split uses DATA_SEED).
  const rng = new Rng(input.seed, 1);
  let order = rng.permutation(input.trainRows);
  let cursor = 0;
  const xBuf = new Float32Array(B * rowSize);
  const yBuf = new Float32Array(B * K);
  const pending: { steps: number[]; losses: number[] } = { steps: [], losses: [] };
  let lastFlush = performance.now();
  let trainMs = 0;
  const flush = (): void => {
    if (pending.steps.length === 0) return;
    input.onSteps(pending.steps, pending.losses);
    pending.steps = [];
    pending.losses = [];
    lastFlush = performance.now();
  };
  const evaluate = (step: number): void => {
    const out = new Float32Array(input.evalRows * K);
    for (let start = 0; start < input.evalRows; start += EVAL_BATCH) {
      const n = Math.min(EVAL_BATCH, input.evalRows - start);
      const logits = tf.tidy(() => {
        const x = tf.tensor(input.xEval.subarray(start * rowSize, (start + n) * rowSize), [n, ...input.inputShape]);
        return model.predict(x) as tfc.Tensor;
      });
      out.set(logits.dataSync(), start * K);
      logits.dispose();
    }
    input.onEval(step, out);
  };

  let step = 0;
  try {
    for (step = 1; step <= input.steps; step++) {
      if (input.signal.aborted) {
        flush();
        return { status: 'cancelled', message: `cancelled at step ${step - 1}`, trainSeconds: steadySeconds(trainMs, step), stepsDone: step - 1 };
      }
      const t0 = performance.now();
      for (let i = 0; i < B; i++) {
        if (cursor === order.length) {
          order = rng.permutation(input.trainRows);
          cursor = 0;
        }
        const row = order[cursor++];
        xBuf.set(input.xTrain.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
        yBuf.set(input.targets.subarray(row * K, (row + 1) * K), i * K);
      }
      const x = tf.tensor(xBuf, [B, ...input.inputShape]);
      const y = tf.tensor2d(yBuf, [B, K]);
      let dataLoss: tfc.Scalar | undefined;
      let cost: tfc.Scalar | null = null;
      try {
        cost = optimizer.minimize(
          () => {
            const logits = model.apply(x, { training: true }) as tfc.Tensor;
            dataLoss = tf.keep(lossFn(logits, y));
            const reg = regularizationLoss(rt, model);
            return reg ? tf.add(dataLoss, reg) : dataLoss;
          },
          true,
          vars,
        );
      } finally {
        x.dispose();
        y.dispose();
      }
      const value = dataLoss ? dataLoss.dataSync()[0] : NaN;
      dataLoss?.dispose();
      cost?.dispose();
      if (step > 1) trainMs += performance.now() - t0;
      pending.steps.push(step);
      pending.losses.push(value);
      if (!Number.isFinite(value)) {
        flush();
        return { status: 'diverged', message: `the training loss became ${value} at step ${step}`, trainSeconds: steadySeconds(trainMs, step + 1), stepsDone: step };
      }
      if (pending.steps.length >= FLUSH_STEPS || performance.now() - lastFlush > FLUSH_MS) flush();
      if (step % input.evalEvery === 0 || step === input.steps) {
        flush();
        evaluate(step);
      }
      await yieldToEvents();
    }
    flush();
    return { status: 'done', trainSeconds: steadySeconds(trainMs, input.steps + 1), stepsDone: input.steps };
  } catch (e) {
    flush();
    if (e instanceof DivergedError) {
      return { status: 'diverged', message: `diverged at step ${step}: ${e.message}`, trainSeconds: steadySeconds(trainMs, step), stepsDone: step - 1 };
    }
    throw e;
  } finally {
    optimizer.dispose();
  }
}

/** Training time of `done` steps estimated from steps 2…done (the first is warm-up). */
function steadySeconds(ms: number, next: number): number {
  const done = next - 1;
  return done > 1 ? ((ms / 1000) * done) / (done - 1) : ms / 1000;
}
