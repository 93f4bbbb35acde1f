/**
 * The probe view's data: ProbeEvents folded into one model. The same fold serves live events,
 * a replayed saved run (probe/load) and the webview state, so the three cannot disagree. The
 * state is the model written back as a short list of events (one run/steps per run), which keeps
 * it bounded however long the run.
 */
import type { BackendName, EvalPoint, ProbeEvent, ProbeStatus, RunInfo, RunStatus, RunSummary, TableRow } from '../src/shared/probeProtocol';

/** Training points kept per run for drawing; beyond it neighbours are averaged in pairs. */
export const MAX_POINTS_PER_RUN = 5000;
const MAX_LOGS = 50;

export interface RunModel {
  info: RunInfo;
  /** Kept training points; each is the mean of `stride` consecutive raw steps. */
  steps: number[];
  losses: number[];
  stride: number;
  /** Raw steps waiting to fill a bucket of `stride` (only while stride > 1). */
  pending: { steps: number[]; losses: number[] };
  /** The last step seen, raw (the kept points lag by up to stride − 1 steps). */
  lastStep: number;
  evals: EvalPoint[];
  finished?: { status: RunStatus; message?: string; summary: RunSummary };
}

export interface ProbeModel {
  started?: Extract<ProbeEvent, { type: 'probe/started' }>;
  runs: Map<string, RunModel>;
  progress?: { fraction: number; message: string };
  logs: string[];
  finished?: { status: ProbeStatus; message?: string; table: TableRow[]; savedTo?: string };
}

export const emptyModel = (): ProbeModel => ({ runs: new Map(), logs: [] });

/** What the header says: the probe's status, or 'running' until probe/finished. */
export const probeStatus = (m: ProbeModel): ProbeStatus | 'running' => m.finished?.status ?? 'running';

/** Averages non-finite values in as NaN on purpose: a bucket that diverged must show a gap. */
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function halve(run: RunModel): void {
  const steps: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i + 1 < run.steps.length; i += 2) {
    steps.push(run.steps[i + 1]);
    losses.push((run.losses[i] + run.losses[i + 1]) / 2);
  }
  // An odd point left over starts the next, wider bucket.
  if (run.steps.length % 2 === 1) {
    run.pending.steps.unshift(...Array<number>(run.stride).fill(run.steps[run.steps.length - 1]));
    run.pending.losses.unshift(...Array<number>(run.stride).fill(run.losses[run.losses.length - 1]));
  }
  run.steps = steps;
  run.losses = losses;
  run.stride *= 2;
}

function addSteps(run: RunModel, steps: number[], losses: number[]): void {
  for (let i = 0; i < steps.length; i++) {
    run.lastStep = steps[i];
    if (run.stride === 1) {
      run.steps.push(steps[i]);
      run.losses.push(losses[i]);
    } else {
      run.pending.steps.push(steps[i]);
      run.pending.losses.push(losses[i]);
      if (run.pending.steps.length >= run.stride) {
        run.steps.push(run.pending.steps[run.pending.steps.length - 1]);
        run.losses.push(mean(run.pending.losses));
        run.pending = { steps: [], losses: [] };
      }
    }
    if (run.steps.length > MAX_POINTS_PER_RUN) halve(run);
  }
}

/** Folds one event into the model (mutating it). Unknown run ids are ignored, not fatal. */
export function applyEvent(m: ProbeModel, e: ProbeEvent): void {
  switch (e.type) {
    case 'probe/started':
      // A new probe replaces whatever was shown.
      m.started = e;
      m.runs = new Map();
      m.logs = [];
      m.progress = undefined;
      m.finished = undefined;
      break;
    case 'run/started':
      m.runs.set(e.run.runId, { info: e.run, steps: [], losses: [], stride: 1, pending: { steps: [], losses: [] }, lastStep: 0, evals: [] });
      break;
    case 'run/steps': {
      const run = m.runs.get(e.runId);
      if (run) addSteps(run, e.steps, e.losses);
      break;
    }
    case 'run/eval':
      m.runs.get(e.runId)?.evals.push(e.point);
      break;
    case 'run/finished': {
      const run = m.runs.get(e.runId);
      if (run) run.finished = { status: e.status, message: e.message, summary: e.summary };
      break;
    }
    case 'probe/progress':
      m.progress = { fraction: e.fraction, message: e.message };
      break;
    case 'probe/log':
      m.logs.push(e.message);
      if (m.logs.length > MAX_LOGS) m.logs.splice(0, m.logs.length - MAX_LOGS);
      break;
    case 'probe/finished':
      m.finished = { status: e.status, message: e.message, table: e.table, savedTo: e.savedTo };
      break;
  }
}

/** What the webview keeps: the model as events, and each decimated run's stride. */
export interface ProbeState {
  events: ProbeEvent[];
  strides?: Record<string, number>;
}

export function modelOf(events: ProbeEvent[], strides: Record<string, number> = {}): ProbeModel {
  const m = emptyModel();
  for (const e of events) applyEvent(m, e);
  // Saved points were already decimated: new live steps must join them in buckets as wide.
  for (const [id, stride] of Object.entries(strides)) {
    const run = m.runs.get(id);
    if (run && run.steps.length <= MAX_POINTS_PER_RUN) run.stride = stride;
  }
  return m;
}

/**
 * The model as events again, for the webview state. Pending raw steps (fewer than a stride) are
 * dropped; the kept points replay unchanged since there are never more than the bound.
 */
export function stateOf(m: ProbeModel): ProbeState {
  const strides: Record<string, number> = {};
  for (const [id, r] of m.runs) if (r.stride > 1) strides[id] = r.stride;
  return { events: eventsOf(m), strides };
}

export function eventsOf(m: ProbeModel): ProbeEvent[] {
  const out: ProbeEvent[] = [];
  if (m.started) out.push(m.started);
  for (const [runId, r] of m.runs) {
    out.push({ type: 'run/started', run: r.info });
    if (r.steps.length) out.push({ type: 'run/steps', runId, steps: r.steps, losses: r.losses });
    for (const point of r.evals) out.push({ type: 'run/eval', runId, point });
    if (r.finished) out.push({ type: 'run/finished', runId, ...r.finished });
  }
  for (const message of m.logs) out.push({ type: 'probe/log', message });
  if (m.progress) out.push({ type: 'probe/progress', ...m.progress });
  if (m.finished) out.push({ type: 'probe/finished', ...m.finished });
  return out;
}

export const BACKEND_WORDS: Record<BackendName, string> = {
  'tfjs-node-gpu': 'TensorFlow.js, native with CUDA',
  'tfjs-node': 'TensorFlow.js, native CPU',
  'tfjs-wasm': 'TensorFlow.js, WebAssembly',
  'tfjs-cpu': 'TensorFlow.js, plain JavaScript CPU',
  pytorch: 'PyTorch',
};
