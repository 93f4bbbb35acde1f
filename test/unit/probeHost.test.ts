/**
 * The probe host (src/probe/host.ts) with the built worker (dist/probeWorker.js): a worker that
 * really runs out of memory (its V8 heap limit set low) ends the probe as failed with that
 * reason, without taking this process down, and the next probe runs normally.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultProbeConfig } from '../../src/probe/config';
import { startProbe } from '../../src/probe/host';
import type { ProbeConfig, ProbeEvent } from '../../src/shared/probeProtocol';

const WORKER = join(__dirname, '..', '..', 'dist', 'probeWorker.js');

function smallProbe(): ProbeConfig {
  return {
    ...defaultProbeConfig(),
    data: { kind: 'synthetic', classes: 10, features: 32, train: 2000, test: 200 },
    losses: ['ce'],
    steps: 5,
    evalEvery: 5,
    evalRows: 100,
    backend: 'tfjs-wasm',
  };
}

describe('probe host: a worker out of memory', () => {
  it('ends the probe as failed with the reason, and the next probe runs', async () => {
    const events: ProbeEvent[] = [];
    // 16 MB of V8 heap: too little to load tfjs, so the worker dies of a real out-of-memory.
    const starved = startProbe(smallProbe(), { workerPath: WORKER, onEvent: (e) => events.push(e), maxHeapMb: 16 });
    const outcome = await starved.done;
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.message ?? '', /ran out of memory \(worker heap limit 16 MB\)/);
    const finished = events.filter((e) => e.type === 'probe/finished');
    assert.equal(finished.length, 1, 'one probe/finished event');

    const next = startProbe(smallProbe(), { workerPath: WORKER, onEvent: () => undefined });
    const ok = await next.done;
    assert.equal(ok.status, 'done', ok.message);
    assert.equal(ok.table?.length, 1);
  });
});
