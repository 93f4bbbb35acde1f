/**
 * The probe worker (worker_threads): trains off the extension host's (or the CLI's) main
 * thread. It takes one `start`, posts ProbeEvents, and stops at the next step after `cancel`.
 */
import { parentPort } from 'node:worker_threads';
import type { FromProbeWorker, ToProbeWorker } from '../shared/probeProtocol';
import { runProbe } from './runProbe';

const port = parentPort;
if (!port) throw new Error('probeWorker.js runs as a worker thread');
const controller = new AbortController();
const post = (m: FromProbeWorker): void => port.postMessage(m);

port.on('message', (m: ToProbeWorker) => {
  if (m.type === 'cancel') {
    controller.abort();
    return;
  }
  void runProbe(m.config, {
    emit: (event) => post({ type: 'event', event }),
    signal: controller.signal,
    onChildPid: (pid) => post({ type: 'child', pid }),
  }).finally(() => port.close());
});
