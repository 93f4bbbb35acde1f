import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LabelSourceInfo, ReadOptions } from '../../core/labels/types';
import type { LabelStatsResult, StatsOptions } from '../../core/labels/stats';
import type { FromWorker, ToWorker } from '../../shared/labelWorkerProtocol';

export class InspectError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
    readonly userError: boolean,
  ) {
    super(message);
    this.name = 'InspectError';
  }
}

export interface InspectRun {
  info: LabelSourceInfo;
  result: LabelStatsResult;
}

/**
 * Computes a file's label statistics in a worker thread. `onProgress` gets fractions 0…1;
 * aborting `signal` cancels (the worker stops at its next chunk, and is terminated if it
 * has not answered within a second). A crash of the worker rejects; it never takes the
 * extension host with it.
 */
export function inspectInWorker(
  extensionPath: string,
  file: string,
  read: Omit<ReadOptions, 'signal' | 'onProgress'>,
  stats: StatsOptions,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<InspectRun> {
  const worker = new Worker(join(extensionPath, 'dist', 'labelWorker.js'));
  const post = (m: ToWorker): void => worker.postMessage(m);
  return new Promise<InspectRun>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => {
      post({ type: 'cancel' });
      setTimeout(() => finish(() => reject(new InspectError(`${file}: reading cancelled`, true, true))), 1000).unref();
    };
    signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') onProgress(m.fraction);
      else if (m.type === 'done') finish(() => resolve({ info: m.info, result: m.result }));
      else if (m.type === 'failed') finish(() => reject(new InspectError(m.message, m.cancelled, m.userError)));
    });
    worker.on('error', (e) => finish(() => reject(new InspectError(`the statistics worker failed: ${e.message}`, false, false))));
    worker.on('exit', (code) => finish(() => reject(new InspectError(`the statistics worker stopped (exit code ${code})`, false, false))));
    if (signal?.aborted) onAbort();
    else post({ type: 'start', file, read, stats });
  });
}
