/**
 * The probe host (src/probe/host.ts) with the built worker (dist/probeWorker.js): a worker that
 * really runs out of memory (its V8 heap limit set low), and a PyTorch process killed in the
 * middle of training with SIGKILL (what the system's out-of-memory killer sends), end the probe
 * as failed with the reason, keeping what was trained, without taking this process down; the
 * next probe runs normally.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultProbeConfig } from '../../src/probe/config';
import { startProbe } from '../../src/probe/host';
import type { ProbeConfig, ProbeEvent } from '../../src/shared/probeProtocol';
import { torchPython } from '../fixtures/torch/torchEnv';

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

/** Pids of this process's children running the PyTorch worker (from /proc: Linux). */
function torchChildren(): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      // The parent pid is the 4th field of stat, after the command in parentheses.
      const ppid = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1];
      return ppid === String(process.pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('loss_lens_probe');
    } catch {
      return false; // gone meanwhile
    }
  });
}

describe('probe host: a PyTorch process killed mid-training (as the out-of-memory killer does)', () => {
  it('ends its run as failed with the reason and the steps so far, and the next probe runs', async () => {
    await torchPython(); // this suite needs PyTorch, like the other torch suites
    const events: ProbeEvent[] = [];
    let killed = false;
    const config: ProbeConfig = { ...smallProbe(), backend: 'pytorch', device: 'cpu', losses: ['ce', 'cc-ls'], steps: 1_000_000, evalEvery: 5 };
    const probe = startProbe(config, {
      workerPath: WORKER,
      onEvent: (e) => {
        events.push(e);
        // After the first evaluation: SIGKILL to the Python child (of this process: the worker is a thread).
        if (!killed && e.type === 'run/eval') {
          killed = true;
          const pids = torchChildren();
          assert.equal(pids.length, 1, `one PyTorch child: ${pids.join(', ')}`);
          process.kill(Number(pids[0]), 'SIGKILL');
        }
      },
    });
    const outcome = await probe.done;
    assert.ok(killed, 'the probe reached an evaluation');
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.message ?? '', /the PyTorch process was killed \(SIGKILL: out of memory, if/);
    const runEnd = events.find((e) => e.type === 'run/finished');
    assert.ok(runEnd && runEnd.type === 'run/finished' && runEnd.status === 'failed' && /SIGKILL/.test(runEnd.message ?? ''), JSON.stringify(runEnd));
    const steps = events.filter((e) => e.type === 'run/steps').flatMap((e) => (e.type === 'run/steps' ? e.steps : []));
    assert.ok(steps.length >= 5, `the steps before the kill are kept (${steps.length})`);
    assert.equal(events.filter((e) => e.type === 'probe/finished').length, 1);
    assert.deepEqual(outcome.table?.map((r) => r.loss), ['ce'], 'a results row for the run that was cut short (the second never started)');

    const next = startProbe({ ...config, steps: 5 }, { workerPath: WORKER, onEvent: () => undefined });
    const ok = await next.done;
    assert.equal(ok.status, 'done', ok.message);
  });
});

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
