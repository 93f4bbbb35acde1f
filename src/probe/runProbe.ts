/**
 * A probe: load the data once, pick the backend, train every (loss × seed) run in turn, and
 * report ProbeEvents. The figures on held-out rows are computed here from the logits, by the
 * same code for every backend (src/core/probe/metrics.ts), so tfjs and PyTorch runs compare.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, targetsFor, type ProbeDataset } from '../core/probe/data';
import { evaluateLogits } from '../core/probe/metrics';
import { buildTable, summarizeRun } from '../core/probe/table';
import {
  LOSS_TABLE,
  type BackendName,
  type EvalPoint,
  type ProbeConfig,
  type ProbeEvent,
  type RunInfo,
  type RunStatus,
  type TableRow,
  type TargetKind,
  type TorchJob,
} from '../shared/probeProtocol';
import { readNpyFloat32 } from './npyRead';
import { ProbeSetupError, resolveBackend, type BackendPlan } from './backendChoice';
import { trainTfjsRun } from './tfjs/trainer';
import { buildPreset } from './tfjs/presets';
import { loadModelFile } from './tfjs/models';
import { writeNpy } from './torch/npyWrite';
import { runTorchJob } from './torch/torchRunner';

export interface ProbeHooks {
  emit: (event: ProbeEvent) => void;
  signal: AbortSignal;
  /** The pid of a child process (PyTorch), so that the host can kill it if the worker dies. */
  onChildPid?: (pid: number | null) => void;
}

interface RunRecord {
  info: RunInfo;
  seconds: number;
  steps: number[];
  losses: number[];
  evals: EvalPoint[];
}

export async function runProbe(config: ProbeConfig, hooks: ProbeHooks): Promise<void> {
  const { emit, signal } = hooks;
  const records: RunRecord[] = [];
  const progress = (fraction: number, message: string): void => emit({ type: 'probe/progress', fraction, message });
  try {
    validateConfig(config);
    progress(0, 'choosing the backend');
    const plan = await resolveBackend(config, (m) => emit({ type: 'probe/log', message: m }));
    progress(0, 'loading the data');
    const ds = await loadDataset(config.data, {
      temperature: config.temperature,
      teacher: config.teacher,
      signal,
      onProgress: (f, m) => progress(0.05 * f, m),
    });
    // Fail before training, not at the fifth run, when a loss needs soft targets the data lacks.
    for (const loss of config.losses) targetsFor(ds, LOSS_TABLE[loss].target, 'train', config.alpha);
    // A model file is loaded once before the runs: a bad file fails the probe at once, and
    // what loading it had to do (a softmax removed, weights not read) is said up front.
    if (plan.tfjs && config.model.kind === 'file') {
      const trial = await loadModelFile(plan.tfjs, config.model.path, { inputShape: ds.inputShape, classes: ds.classes });
      plan.notes.push(...trial.notes);
      trial.model.dispose();
    }
    const probeId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
    emit({
      type: 'probe/started',
      probeId,
      time: new Date().toISOString(),
      config,
      backend: plan.backend,
      device: plan.device,
      notes: plan.notes,
      runs: config.losses.length * config.seeds.length,
    });
    if (plan.backend === 'pytorch') await runOnTorch(config, ds, plan, hooks, records);
    else await runOnTfjs(config, ds, plan, hooks, records);
    const table = tableOf(records);
    const cancelled = signal.aborted;
    emit({ type: 'probe/finished', status: cancelled ? 'cancelled' : 'done', table, message: cancelled ? 'cancelled' : undefined });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const cancelled = signal.aborted || (e instanceof Error && (e.name === 'AbortError' || e.name === 'ReadCancelled'));
    emit({ type: 'probe/finished', status: cancelled ? 'cancelled' : 'failed', message: cancelled ? 'cancelled' : message, table: tableOf(records) });
  }
}

/** How the PyTorch child ended, in words; SIGKILL is also what the system's out-of-memory killer sends. */
function stoppedHow(r: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (r.signal === 'SIGKILL') return 'was killed (SIGKILL: out of memory, if the system’s out-of-memory killer sent it)';
  if (r.signal) return `was killed by ${r.signal}`;
  return `stopped (exit code ${r.code})`;
}

function tableOf(records: RunRecord[]): TableRow[] {
  return buildTable(records.map((r) => ({ loss: r.info.loss, summary: summarizeRun(r.steps, r.losses, r.evals, r.seconds) })));
}

function validateConfig(c: ProbeConfig): void {
  const int = (v: number, name: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new ProbeSetupError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(c.steps, 'steps', 1);
  int(c.batchSize, 'batch size', 1);
  int(c.evalEvery, 'evalEvery', 1);
  int(c.evalRows, 'evalRows', 1);
  if (c.losses.length === 0) throw new ProbeSetupError('no losses to train');
  if (c.seeds.length === 0) throw new ProbeSetupError('no seeds');
  if (!(c.learningRate > 0)) throw new ProbeSetupError(`the learning rate must be > 0, got ${c.learningRate}`);
  if (!(c.alpha >= 0 && c.alpha <= 1)) throw new ProbeSetupError(`α must be in [0, 1], got ${c.alpha}`);
  if (!(c.temperature > 0)) throw new ProbeSetupError(`the temperature must be > 0, got ${c.temperature}`);
}

class RunTracker {
  readonly record: RunRecord;
  private readonly labels: Int32Array;
  private readonly evalTargets: Float32Array;
  constructor(
    info: RunInfo,
    private readonly ds: ProbeDataset,
    config: ProbeConfig,
    private readonly evalRows: number,
    private readonly emit: (e: ProbeEvent) => void,
  ) {
    this.record = { info, seconds: 0, steps: [], losses: [], evals: [] };
    const K = ds.classes;
    this.labels = ds.labelsTest.subarray(0, evalRows);
    this.evalTargets = targetsFor(ds, LOSS_TABLE[info.loss].target, 'test', config.alpha).subarray(0, evalRows * K);
    emit({ type: 'run/started', run: info });
  }
  steps(steps: number[], losses: number[]): void {
    this.record.steps.push(...steps);
    this.record.losses.push(...losses);
    this.emit({ type: 'run/steps', runId: this.record.info.runId, steps, losses });
  }
  evalLogits(step: number, logits: Float32Array): void {
    const m = evaluateLogits(logits, this.evalRows, this.ds.classes, this.labels, this.evalTargets, LOSS_TABLE[this.record.info.loss].family);
    const point: EvalPoint = { step, ...m };
    this.record.evals.push(point);
    this.emit({ type: 'run/eval', runId: this.record.info.runId, point });
  }
  finish(status: RunStatus, seconds: number, message?: string): void {
    const r = this.record;
    r.seconds = seconds;
    this.emit({ type: 'run/finished', runId: r.info.runId, status, message, summary: summarizeRun(r.steps, r.losses, r.evals, seconds) });
  }
}

function runInfo(loss: RunInfo['loss'], seed: number, backend: BackendName, device: string, model: string, ds: ProbeDataset): RunInfo {
  return {
    runId: `${loss}-s${seed}`,
    loss,
    seed,
    backend,
    device,
    model,
    data: ds.name,
    classes: ds.classes,
    trainRows: ds.trainRows,
    testRows: ds.testRows,
  };
}

async function runOnTfjs(config: ProbeConfig, ds: ProbeDataset, plan: BackendPlan, hooks: ProbeHooks, records: RunRecord[]): Promise<void> {
  const rt = plan.tfjs!;
  const evalRows = Math.min(config.evalRows, ds.testRows);
  const rowSize = ds.inputShape.reduce((a, b) => a * b, 1);
  const total = config.losses.length * config.seeds.length;
  let done = 0;
  for (const seed of config.seeds) {
    for (const loss of config.losses) {
      if (hooks.signal.aborted) return;
      const built =
        config.model.kind === 'preset'
          ? { ...buildPreset(rt, config.model.preset, config.model.options, ds.inputShape, ds.classes, seed), notes: [] }
          : await loadModelFile(rt, config.model.path, { inputShape: ds.inputShape, classes: ds.classes });
      const tracker = new RunTracker(runInfo(loss, seed, plan.backend, plan.device, built.description, ds), ds, config, evalRows, hooks.emit);
      records.push(tracker.record);
      try {
        const result = await trainTfjsRun({
          rt,
          model: built.model,
          family: LOSS_TABLE[loss].family,
          seed,
          inputShape: ds.inputShape,
          classes: ds.classes,
          xTrain: ds.xTrain,
          trainRows: ds.trainRows,
          targets: targetsFor(ds, LOSS_TABLE[loss].target, 'train', config.alpha),
          xEval: ds.xTest.subarray(0, evalRows * rowSize),
          evalRows,
          steps: config.steps,
          batchSize: config.batchSize,
          learningRate: config.learningRate,
          optimizer: config.optimizer,
          evalEvery: config.evalEvery,
          signal: hooks.signal,
          onSteps: (s, l) => {
            tracker.steps(s, l);
            hooks.emit({ type: 'probe/progress', fraction: (done + s[s.length - 1] / config.steps) / total, message: `${loss} · seed ${seed}: step ${s[s.length - 1]}` });
          },
          onEval: (step, logits) => tracker.evalLogits(step, logits),
        });
        tracker.finish(result.status, result.trainSeconds, result.message);
      } catch (e) {
        tracker.finish('failed', 0, e instanceof Error ? e.message : String(e));
      } finally {
        built.model.dispose();
      }
      done++;
    }
  }
}

async function runOnTorch(config: ProbeConfig, ds: ProbeDataset, plan: BackendPlan, hooks: ProbeHooks, records: RunRecord[]): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'loss-lens-probe-'));
  try {
    const K = ds.classes;
    const evalRows = Math.min(config.evalRows, ds.testRows);
    const rowSize = ds.inputShape.reduce((a, b) => a * b, 1);
    const xTrain = join(workDir, 'x_train.npy');
    const xTest = join(workDir, 'x_test.npy');
    writeNpy(xTrain, ds.xTrain, [ds.trainRows, ...ds.inputShape]);
    writeNpy(xTest, ds.xTest.subarray(0, evalRows * rowSize), [evalRows, ...ds.inputShape]);
    const targetsTrain: Partial<Record<TargetKind, string>> = {};
    for (const kind of new Set(config.losses.map((l) => LOSS_TABLE[l].target))) {
      const p = join(workDir, `targets_${kind}.npy`);
      writeNpy(p, targetsFor(ds, kind, 'train', config.alpha), [ds.trainRows, K]);
      targetsTrain[kind] = p;
    }
    const runs = config.seeds.flatMap((seed) => config.losses.map((loss) => ({ runId: `${loss}-s${seed}`, loss, seed })));
    const job: TorchJob = {
      data: { xTrain, xTest, inputShape: ds.inputShape, classes: K, targetsTrain },
      model: config.model,
      runs,
      steps: config.steps,
      batchSize: config.batchSize,
      learningRate: config.learningRate,
      optimizer: config.optimizer,
      evalEvery: config.evalEvery,
      evalRows,
      device: config.device,
      workDir,
    };
    const trackers = new Map<string, RunTracker>();
    let device = plan.device;
    let childError: string | undefined;
    let done = 0;
    const result = await runTorchJob(
      plan.python!,
      job,
      (m) => {
        switch (m.type) {
          case 'hello':
            device = m.device;
            hooks.emit({ type: 'probe/log', message: `PyTorch ${m.torch} on ${m.device} (Python ${m.python})${m.ccOp ? `; CC loss, ${m.ccOp}` : ''}` });
            break;
          case 'run/started': {
            const r = runs.find((x) => x.runId === m.runId)!;
            const t = new RunTracker(runInfo(r.loss, r.seed, 'pytorch', device, m.model, ds), ds, config, evalRows, hooks.emit);
            trackers.set(m.runId, t);
            records.push(t.record);
            break;
          }
          case 'run/steps':
            trackers.get(m.runId)?.steps(m.steps, m.losses);
            hooks.emit({ type: 'probe/progress', fraction: (done + m.steps[m.steps.length - 1] / config.steps) / runs.length, message: `${m.runId}: step ${m.steps[m.steps.length - 1]}` });
            break;
          case 'eval': {
            const logits = readNpyFloat32(readFileSync(m.path), m.path);
            rmSync(m.path, { force: true });
            trackers.get(m.runId)?.evalLogits(m.step, logits);
            break;
          }
          case 'run/finished':
            trackers.get(m.runId)?.finish(m.status, m.seconds, m.message);
            trackers.delete(m.runId);
            done++;
            break;
          case 'error':
            childError = m.message;
            break;
        }
      },
      { signal: hooks.signal, onPid: hooks.onChildPid },
    );
    hooks.onChildPid?.(null);
    // Runs that were still open when the child stopped: cancelled, or the child died.
    const why = hooks.signal.aborted
      ? 'cancelled'
      : (childError ?? `the PyTorch process ${stoppedHow(result)}${result.stderrTail ? `: ${result.stderrTail}` : ''}`);
    for (const t of trackers.values()) t.finish(hooks.signal.aborted ? 'cancelled' : 'failed', 0, why);
    if (!hooks.signal.aborted && (childError || result.code !== 0)) throw new ProbeSetupError(why);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

