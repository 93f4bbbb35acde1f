import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LintLanguage, LintOptions, LintResult } from '../../core/lint/types';
import type { LintReply, LintRequest } from './workerProtocol';

/**
 * The host's side of dist/lintWorker.js: started on first use, restarted after a crash (every
 * pending request then rejects; the next one gets a fresh worker), stopped on dispose.
 */
export class LintWorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: LintResult) => void; reject: (e: Error) => void }>();
  /** Requests answered so far (the integration tests check that big documents went here). */
  runs = 0;

  constructor(private readonly extensionPath: string) {}

  lint(text: string, language: LintLanguage, file: string, options: LintOptions): Promise<LintResult> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<LintResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: LintRequest = { id, text, language, file, options };
      worker.postMessage(req);
    });
  }

  dispose(): void {
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the lint worker was stopped'));
    void w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(join(this.extensionPath, 'dist', 'lintWorker.js'));
    w.on('message', (m: LintReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.runs++;
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const lost = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failAll(new Error(why));
    };
    w.on('error', (e) => lost(`the lint worker failed: ${e.message}`));
    w.on('exit', (code) => lost(`the lint worker stopped (exit code ${code})`));
    // An idle worker must not keep the extension host alive on shutdown.
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
