import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LabelStats, openLabels } from '../../src/core/labels';
import { InspectError, inspectInWorker } from '../../src/extension/inspect/runWorker';

const ROOT = join(__dirname, '..', '..');
const NPY = join(ROOT, 'test', 'fixtures', 'labels', 'npy');

describe('the label-statistics worker (dist/labelWorker.js)', () => {
  it('computes the same statistics as the core, off the calling thread, with progress', async () => {
    const seen: number[] = [];
    const run = await inspectInWorker(ROOT, join(NPY, 'same.jsonl'), {}, {}, (f) => seen.push(f));
    const src = await openLabels(join(NPY, 'same.jsonl'));
    const stats = new LabelStats(src.info.K);
    for await (const c of src.chunks()) stats.add(c);
    assert.deepEqual(run.result, stats.result());
    assert.equal(run.info.format, 'jsonl');
  });
  it('stops within a second of being cancelled, on a large file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loss-lens-worker-'));
    const file = join(dir, 'big.csv');
    const row = '0.1,0.2,0.3,0.4\n';
    writeFileSync(file, `p0,p1,p2,p3\n${row.repeat(600_000)}`);
    const ac = new AbortController();
    let cancelledAt = 0;
    const started = inspectInWorker(ROOT, file, { chunkRows: 1000 }, {}, () => {
      if (!ac.signal.aborted) {
        cancelledAt = Date.now();
        ac.abort();
      }
    }, ac.signal);
    await assert.rejects(started, (e: unknown) => e instanceof InspectError && e.cancelled && e.userError);
    assert.ok(cancelledAt > 0, 'progress was reported before the end');
    assert.ok(Date.now() - cancelledAt < 1500, `stopped ${Date.now() - cancelledAt} ms after the cancel`);
  });
  it('a bad file is a user error with its message; a broken worker is an error, not a crash', async () => {
    await assert.rejects(
      inspectInWorker(ROOT, join(NPY, 'bad_magic.npy'), {}, {}, () => undefined),
      (e: unknown) => e instanceof InspectError && e.userError && /bad_magic\.npy \(byte 5\)/.test(e.message),
    );
    await assert.rejects(
      inspectInWorker(join(ROOT, 'no-such-extension-dir'), join(NPY, 'soft.npz'), {}, {}, () => undefined),
      (e: unknown) => e instanceof InspectError && !e.userError,
    );
  });
});
