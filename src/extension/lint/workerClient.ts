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

  /**
   * `workerPath`: dist/lintWorker.js (the extension passes its own folder's). `keepAlive`: the
   * worker keeps the process running while it works (a CLI); else an idle worker must not keep
   * the extension host alive on shutdown.
   */
  constructor(
    readonly workerPath: string,
    private readonly keepAlive = false,
  ) {}

  /** Requests sent and not answered yet. */
  get load(): number {
    return this.pending.size;
  }

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
    const w = new Worker(this.workerPath);
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
    if (!this.keepAlive) w.unref();
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/**
 * Several lint workers (the CLI's --jobs): each request goes to the least loaded one, so files
 * parse in parallel. A worker loads the wasm runtime and grammars once, on its first request.
 */
export class LintWorkerPool {
  private readonly workers: LintWorkerClient[];

  constructor(workerPath: string, size: number) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => new LintWorkerClient(workerPath, true));
  }

  readonly lint = (text: string, language: LintLanguage, file: string, options: LintOptions = {}): Promise<LintResult> =>
    this.workers.reduce((a, b) => (b.load < a.load ? b : a)).lint(text, language, file, options);

  dispose(): void {
    for (const w of this.workers) w.dispose();
  }
}
