/**
 * Messages between the extension host and the label-statistics worker (a worker_threads
 * worker, so big files never block the host's thread).
 */
import type { LabelSourceInfo, ReadOptions } from '../core/labels/types';
import type { LabelStatsResult, StatsOptions } from '../core/labels/stats';

/** host → worker: read a file and compute its statistics. */
export interface StartInspect {
  type: 'start';
  file: string;
  read: Omit<ReadOptions, 'signal' | 'onProgress'>;
  stats: StatsOptions;
}
/** host → worker: stop; the worker answers with `failed` and `cancelled: true`. */
export interface CancelInspect {
  type: 'cancel';
}
export type ToWorker = StartInspect | CancelInspect;

/** worker → host: the header is read. */
export interface WorkerInfo {
  type: 'info';
  info: LabelSourceInfo;
}
/** worker → host: bytes read so far, as a fraction of the file. */
export interface WorkerProgress {
  type: 'progress';
  fraction: number;
}
/** worker → host: done. */
export interface WorkerDone {
  type: 'done';
  info: LabelSourceInfo;
  result: LabelStatsResult;
}
/** worker → host: the file could not be read, the read was cancelled, or a bug. */
export interface WorkerFailed {
  type: 'failed';
  message: string;
  cancelled: boolean;
  /** A LabelFileError (bad input) rather than a bug. */
  userError: boolean;
}
export type FromWorker = WorkerInfo | WorkerProgress | WorkerDone | WorkerFailed;
