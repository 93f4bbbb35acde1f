/**
 * Training probes: what a probe is asked to do (ProbeConfig), and the events it reports
 * (ProbeEvent). One protocol for every backend: the probe worker (worker_threads) posts these
 * events to the extension host or the CLI, the panel draws them, and a saved run is a JSON-lines
 * file of them. The PyTorch child process speaks the smaller `TorchJob` / `TorchMessage`
 * protocol below on stdin/stdout; the worker turns its messages into ProbeEvents.
 */

/**
 * The losses a probe trains with. Each is a loss family applied to one kind of target:
 *
 *   ce       cross-entropy   on one-hot targets (hard labels)
 *   ls       cross-entropy   on label-smoothing targets (1 − α)·onehot + α/K
 *   cc-ls    CC NLL          on the same label-smoothing targets
 *   soft-ce  cross-entropy   on soft targets (a targets file, or softmax(teacher logits / T))
 *   cc       CC NLL          on the same soft targets
 */
export const LOSS_KINDS = ['ce', 'ls', 'cc-ls', 'soft-ce', 'cc'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];
export type LossFamily = 'ce' | 'cc';
export type TargetKind = 'onehot' | 'ls' | 'soft';
export const LOSS_TABLE: Record<LossKind, { family: LossFamily; target: TargetKind; label: string }> = {
  ce: { family: 'ce', target: 'onehot', label: 'cross-entropy' },
  ls: { family: 'ce', target: 'ls', label: 'label smoothing (CE)' },
  'cc-ls': { family: 'cc', target: 'ls', label: 'CC-LS' },
  'soft-ce': { family: 'ce', target: 'soft', label: 'soft-target CE' },
  cc: { family: 'cc', target: 'soft', label: 'CC (soft targets)' },
};

/** The backend that actually trains. */
export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'tfjs-wasm' | 'tfjs-cpu' | 'pytorch';
/** What the user asks for; `auto` picks (see src/probe/backendChoice.ts). */
export const BACKEND_CHOICES = ['auto', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu', 'pytorch'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const PRESETS = ['mlp', 'cnn'] as const;
export type PresetName = (typeof PRESETS)[number];
export interface PresetOptions {
  /** Units of the hidden dense layer(s). */
  hidden: number;
  batchNorm: boolean;
  /** Dropout rate after the hidden dense layer; 0 for none. */
  dropout: number;
  /**
   * Weight decay on kernels (not biases, not BatchNorm), in PyTorch's convention: the gradient
   * gains weightDecay·w (Keras: l2(weightDecay / 2)).
   */
  weightDecay: number;
}
export type ModelSpec =
  | { kind: 'preset'; preset: PresetName; options: PresetOptions }
  /** tfjs model.json, Keras model.to_json() file, .keras archive, or TorchScript (.pt/.pth). */
  | { kind: 'file'; path: string };

export type DataSpec =
  /** Debian's dataset-fashion-mnist (or a folder of idx files, .gz or not), a random subset. */
  | { kind: 'fashion-mnist'; dir?: string; train: number; test: number }
  /** Gaussian clusters with a ground-truth linear teacher (its logits serve as teacher logits). */
  | { kind: 'synthetic'; classes: number; features: number; train: number; test: number }
  /**
   * Features (N×D, or N×H×W×C for images) and targets (N×K soft rows, or N integer labels)
   * from files any label reader opens; a seeded `testFraction` of the rows is held out.
   */
  | { kind: 'files'; features: string; targets: string; testFraction: number };

export interface ProbeConfig {
  model: ModelSpec;
  data: DataSpec;
  losses: LossKind[];
  seeds: number[];
  steps: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  /** Evaluate on held-out rows every `evalEvery` steps (and at the last step). */
  evalEvery: number;
  /** Held-out rows used per evaluation (at most the test split). */
  evalRows: number;
  /** Label smoothing α for `ls` and `cc-ls`. */
  alpha: number;
  /** Temperature T of teacher soft targets softmax(logits / T). */
  temperature: number;
  /** Teacher logits (N×K, rows in the data's order) for `soft-ce` / `cc` on hard-label data. */
  teacher?: string;
  backend: BackendChoice;
  /** Python interpreter for the PyTorch backend (else discovered). */
  python?: string;
  /** PyTorch device: auto uses CUDA when torch.cuda.is_available(). */
  device: 'auto' | 'cpu' | 'cuda';
  /** Folder where the run is saved as JSON lines (none: not saved). */
  saveDir?: string;
}

/** One run: one loss × one seed. */
export interface RunInfo {
  runId: string;
  loss: LossKind;
  seed: number;
  backend: BackendName;
  /** Where it runs, in words: "CPU (wasm, 1 thread)", "cuda:0 (NVIDIA H100 80GB HBM3)". */
  device: string;
  model: string;
  data: string;
  classes: number;
  trainRows: number;
  testRows: number;
}

/** Figures on held-out rows at one step. */
export interface EvalPoint {
  step: number;
  /** The run's own loss on held-out rows (float64, by the core). */
  loss: number;
  accuracy: number;
  /** Expected calibration error (15 equal-width bins of max probability). */
  ece: number;
  /** Fraction of predicted λ = softmax(z) that are near-uniform (naive float32 keeps < 2 digits). */
  nearUniform: number;
  /** Median and largest digits a naive float32 CC normalizer loses on these rows. */
  digitsLostMedian: number;
  digitsLostMax: number;
  /** A naive float32 CC normalizer gave NaN/∞ or was off by more than 1 nat on some row. */
  naiveFailure: boolean;
  /** Some logits were not finite. */
  nonFinite: boolean;
}

export type RunStatus = 'done' | 'cancelled' | 'failed' | 'diverged';
export interface RunSummary {
  steps: number;
  /** Mean training loss over the last 10% of steps. */
  finalTrainLoss: number | null;
  lastEval: EvalPoint | null;
  firstNaiveFailureStep: number | null;
  firstNonFiniteStep: number | null;
  stepsPerSecond: number;
}

/** One row of the results table: a loss, over its seeds. */
export interface TableRow {
  loss: LossKind;
  runs: number;
  accuracyMean: number | null;
  accuracyStd: number | null;
  eceMean: number | null;
  eceStd: number | null;
  evalLossMean: number | null;
  nearUniformMean: number | null;
  firstNaiveFailureStep: number | null;
  stepsPerSecond: number | null;
}

export type ProbeStatus = 'done' | 'cancelled' | 'failed';
export type ProbeEvent =
  | {
      type: 'probe/started';
      probeId: string;
      /** ISO time. */
      time: string;
      config: ProbeConfig;
      backend: BackendName;
      device: string;
      /** Things the user should know: "weights could not be read: fresh initialization", … */
      notes: string[];
      runs: number;
    }
  | { type: 'run/started'; run: RunInfo }
  /** Training losses, batched (several steps per message). Steps count from 1. */
  | { type: 'run/steps'; runId: string; steps: number[]; losses: number[] }
  | { type: 'run/eval'; runId: string; point: EvalPoint }
  | { type: 'run/finished'; runId: string; status: RunStatus; message?: string; summary: RunSummary }
  /** Overall progress 0…1 with a short message. */
  | { type: 'probe/progress'; fraction: number; message: string }
  | { type: 'probe/log'; message: string }
  | { type: 'probe/finished'; status: ProbeStatus; message?: string; table: TableRow[]; savedTo?: string };

/** host → probe worker. */
export type ToProbeWorker = { type: 'start'; config: ProbeConfig } | { type: 'cancel' };
/** probe worker → host: the events, plus the pid of a child process (so the host can kill it too). */
export type FromProbeWorker = { type: 'event'; event: ProbeEvent } | { type: 'child'; pid: number | null };

// ---------------------------------------------------------------------------------------------
// The PyTorch child process (python/loss_lens_probe). It reads one TorchJob as a JSON line on
// stdin, then writes TorchMessages as JSON lines on stdout. Cancelling is killing the process.

export interface TorchRun {
  runId: string;
  loss: LossKind;
  seed: number;
}
export interface TorchJob {
  /** The data as .npy files written by the worker (float32 features; float32 N×K targets). */
  data: {
    xTrain: string;
    xTest: string;
    /** Input shape of one row: [D] or [H, W, C] (NHWC; the worker transposes to NCHW). */
    inputShape: number[];
    classes: number;
    /** Targets by kind: onehot and ls always, soft when the data has soft targets. N×K float32. */
    targetsTrain: Partial<Record<TargetKind, string>>;
  };
  model: ModelSpec;
  runs: TorchRun[];
  steps: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  evalEvery: number;
  /** Held-out rows to evaluate (the first evalRows of xTest). */
  evalRows: number;
  device: 'auto' | 'cpu' | 'cuda';
  /** A folder for evaluation logits (.npy files). */
  workDir: string;
}
export type TorchMessage =
  /** ccOp: on the CPU with a CC loss, how its few-class path (K ≤ 32) runs: the native kernel, or why not. */
  | { type: 'hello'; torch: string; device: string; python: string; ccOp?: string }
  | { type: 'run/started'; runId: string; model: string; parameters: number }
  | { type: 'run/steps'; runId: string; steps: number[]; losses: number[] }
  /** Logits (evalRows × K float32 .npy) of the held-out rows after `step` steps. */
  | { type: 'eval'; runId: string; step: number; path: string }
  | { type: 'run/finished'; runId: string; status: RunStatus; message?: string; seconds: number }
  | { type: 'error'; message: string; runId?: string };
