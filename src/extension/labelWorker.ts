/**
 * The label-statistics worker: reads a soft-label file with the core readers and accumulates
 * its statistics, off the extension host's thread. Bundled to dist/labelWorker.js.
 * Imports core and shared only (no vscode: a worker has no extension API).
 */
import { parentPort } from 'node:worker_threads';
import { LabelFileError, LabelStats, ReadCancelled, openLabels } from '../core/labels';
import type { FromWorker, ToWorker } from '../shared/labelWorkerProtocol';

const port = parentPort;
if (!port) throw new Error('labelWorker runs as a worker thread');
const abort = new AbortController();
const send = (m: FromWorker): void => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') abort.abort();
  else void run(m.file, m);
});

async function run(file: string, m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  let lastReport = 0;
  try {
    const source = await openLabels(file, {
      ...m.read,
      signal: abort.signal,
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - lastReport > 100) {
          lastReport = now;
          send({ type: 'progress', fraction: total ? done / total : 0 });
        }
      },
    });
    send({ type: 'info', info: source.info });
    const stats = new LabelStats(source.info.K, m.stats);
    for await (const chunk of source.chunks()) stats.add(chunk);
    send({ type: 'done', info: source.info, result: stats.result() });
  } catch (e) {
    const cancelled = e instanceof ReadCancelled;
    send({
      type: 'failed',
      message: e instanceof Error ? e.message : String(e),
      cancelled,
      userError: cancelled || e instanceof LabelFileError,
    });
  }
}
