/**
 * Runs the PyTorch worker (python/loss_lens_probe) as a child process: writes the TorchJob to
 * its stdin, parses TorchMessages from its stdout, and kills it on abort.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { TorchJob, TorchMessage } from '../../shared/probeProtocol';

const KILL_GRACE_MS = 500;
const STDERR_KEEP = 4000;

/**
 * The folder holding the loss_lens_probe package: `python/` next to dist/ in the packaged
 * extension (the bundle's __dirname is dist/), or at the repository root when this file runs
 * from src/ under tsx.
 */
export function probePythonPath(): string {
  const candidates = [join(__dirname, '..', 'python'), resolve(__dirname, '..', '..', '..', 'python')];
  for (const c of candidates) if (existsSync(join(c, 'loss_lens_probe', '__main__.py'))) return c;
  return candidates[0];
}

/** PYTHONPATH with the package's folder first (a user's own entries are kept after it). */
export function withProbePath(existing: string | undefined): string {
  const own = probePythonPath();
  return existing ? `${own}${delimiter}${existing}` : own;
}

const MESSAGE_TYPES = new Set(['hello', 'run/started', 'run/steps', 'eval', 'run/finished', 'error']);

/** One stdout line as a TorchMessage, or an `error` message that quotes the bad line. */
export function parseTorchLine(line: string): TorchMessage {
  const quoted = line.length > 300 ? `${line.slice(0, 300)}…` : line;
  try {
    const m = JSON.parse(line) as unknown;
    if (m && typeof m === 'object' && MESSAGE_TYPES.has((m as { type?: unknown }).type as string)) return m as TorchMessage;
  } catch {
    // fall through to the error below
  }
  return { type: 'error', message: `the PyTorch process wrote a line that is not a protocol message: ${quoted}` };
}

export interface TorchRunOptions {
  signal?: AbortSignal;
  onPid?: (pid: number | null) => void;
  /** Extra environment for the child (tests). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Resolves once the child has exited, with its exit code (null when killed by a signal), the
 * signal, and the end of its stderr, so that a caller can report a crash (OOM kill, segfault,
 * traceback).
 */
export function runTorchJob(
  python: string,
  job: TorchJob,
  onMessage: (m: TorchMessage) => void,
  opts: TorchRunOptions = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env, ...opts.env, PYTHONPATH: withProbePath(opts.env?.PYTHONPATH ?? process.env.PYTHONPATH), PYTHONUNBUFFERED: '1' };
    const child = spawn(python, ['-m', 'loss_lens_probe'], { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    opts.onPid?.(child.pid ?? null);

    let stderr = '';
    let pending = '';
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const deliver = (line: string): void => {
      if (line.trim() === '') return;
      onMessage(parseTorchLine(line));
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        deliver(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });

    const abort = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A child stuck in native code (a CUDA kernel, a BLAS call) may not die on SIGTERM.
      killTimer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
    };
    if (opts.signal?.aborted) abort();
    else opts.signal?.addEventListener('abort', abort, { once: true });

    const finish = (code: number | null, extra?: string, sig: NodeJS.Signals | null = null): void => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', abort);
      if (pending.trim() !== '') deliver(pending);
      pending = '';
      const tail = (extra ? `${stderr}\n${extra}` : stderr).trim();
      resolvePromise({ code, signal: sig, stderrTail: tail.slice(-1000) });
    };
    child.on('error', (e) => finish(null, `cannot start ${python}: ${e.message}`));
    // 'close' (not 'exit'): stdout and stderr are drained by then.
    child.on('close', (code, sig) => finish(code, undefined, sig));

    // A child that exits before reading its stdin makes this write fail with EPIPE: ignore it,
    // the exit code and stderr tell the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(job) + '\n');
  });
}
