/**
 * Starts a probe in a worker thread and stands between it and its user (the extension host or
 * the CLI): forwards its events, saves them as JSON lines, and makes sure the probe always ends
 * with a `probe/finished`, whatever the worker does. Cancel asks the worker; a worker that has
 * not finished a second later is terminated. A worker that crashes, runs out of memory or is
 * killed ends its open runs as failed, with the reason, and keeps what they had drawn.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildTable, summarizeRun } from '../core/probe/table';
import type { EvalPoint, FromProbeWorker, LossKind, ProbeConfig, ProbeEvent, ProbeStatus, TableRow, ToProbeWorker } from '../shared/probeProtocol';

export interface ProbeOutcome {
  status: ProbeStatus;
  message?: string;
  savedTo?: string;
  /** The results table of the runs that finished (empty when none did). */
  table?: TableRow[];
}

export interface ProbeHandle {
  cancel(): void;
  /** Terminates the worker as a crash would (tests, and a stuck worker). */
  kill(): void;
  readonly done: Promise<ProbeOutcome>;
}

export interface ProbeHostOptions {
  /** The built worker: dist/probeWorker.js. */
  workerPath: string;
  onEvent: (e: ProbeEvent) => void;
  /** Heap limit of the worker (MB); beyond it the worker stops with an out-of-memory error. */
  maxHeapMb?: number;
  /** Grace before a cancelled worker is terminated. */
  cancelGraceMs?: number;
}

interface OpenRun {
  loss: LossKind;
  steps: number[];
  losses: number[];
  evals: EvalPoint[];
  finished: boolean;
}

export function startProbe(config: ProbeConfig, opts: ProbeHostOptions): ProbeHandle {
  const worker = new Worker(opts.workerPath, { resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 4096 } });
  const runs = new Map<string, OpenRun>();
  let childPid: number | null = null;
  let finished = false;
  let saved: WriteStream | undefined;
  let savedTo: string | undefined;
  const early: ProbeEvent[] = [];
  let resolveDone!: (o: ProbeOutcome) => void;
  const done = new Promise<ProbeOutcome>((r) => (resolveDone = r));

  const save = (e: ProbeEvent): void => {
    if (!config.saveDir || e.type === 'probe/progress') return;
    if (!saved) {
      if (e.type !== 'probe/started') {
        early.push(e);
        return;
      }
      mkdirSync(config.saveDir, { recursive: true });
      savedTo = join(config.saveDir, `probe-${e.probeId}.jsonl`);
      saved = createWriteStream(savedTo);
      saved.on('error', () => undefined); // a full disk must not take the host down
      for (const x of early) saved.write(JSON.stringify(x) + '\n');
    }
    saved.write(JSON.stringify(e) + '\n');
  };

  const deliver = (e: ProbeEvent): void => {
    if (finished) return;
    if (e.type === 'run/started') runs.set(e.run.runId, { loss: e.run.loss, steps: [], losses: [], evals: [], finished: false });
    else if (e.type === 'run/steps') {
      const r = runs.get(e.runId);
      r?.steps.push(...e.steps);
      r?.losses.push(...e.losses);
    } else if (e.type === 'run/eval') runs.get(e.runId)?.evals.push(e.point);
    else if (e.type === 'run/finished') {
      const r = runs.get(e.runId);
      if (r) r.finished = true;
    }
    if (e.type === 'probe/finished') {
      finished = true;
      e = { ...e, savedTo };
    }
    save(e);
    opts.onEvent(e);
    if (e.type === 'probe/finished') {
      const outcome: ProbeOutcome = { status: e.status, message: e.message, savedTo, table: e.table };
      if (saved) saved.end(() => resolveDone(outcome));
      else resolveDone(outcome);
      void worker.terminate();
    }
  };

  /** Ends the probe on the host's side: the worker is gone or will be. */
  const endHere = (status: ProbeStatus, message: string): void => {
    if (finished) return;
    if (childPid !== null) {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const [runId, r] of runs) {
      if (r.finished) continue;
      deliver({ type: 'run/finished', runId, status: status === 'cancelled' ? 'cancelled' : 'failed', message, summary: summarizeRun(r.steps, r.losses, r.evals, 0) });
    }
    const table = buildTable([...runs.values()].map((r) => ({ loss: r.loss, summary: summarizeRun(r.steps, r.losses, r.evals, 0) })));
    deliver({ type: 'probe/finished', status, message, table });
  };

  worker.on('message', (m: FromProbeWorker) => {
    if (m.type === 'child') childPid = m.pid;
    else deliver(m.event);
  });
  worker.on('error', (e) => {
    const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    endHere('failed', oom ? `the probe ran out of memory (worker heap limit ${opts.maxHeapMb ?? 4096} MB)` : `the probe worker crashed: ${e.message}`);
  });
  worker.on('exit', (code) => endHere('failed', `the probe worker stopped unexpectedly (exit code ${code})`));
  worker.postMessage({ type: 'start', config } satisfies ToProbeWorker);

  let cancelling = false;
  return {
    cancel() {
      if (finished || cancelling) return;
      cancelling = true;
      worker.postMessage({ type: 'cancel' } satisfies ToProbeWorker);
      setTimeout(() => {
        if (finished) return;
        endHere('cancelled', 'cancelled (the worker was stopped)');
        void worker.terminate();
      }, opts.cancelGraceMs ?? 1000).unref();
    },
    kill() {
      void worker.terminate();
    },
    done,
  };
}
