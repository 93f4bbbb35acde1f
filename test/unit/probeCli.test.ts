import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EvalPoint, ProbeEvent, TableRow } from '../../src/shared/probeProtocol';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

function probe(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'probe', ...args], { encoding: 'utf8', timeout: 120_000 });
}

interface Out {
  status: string;
  runs: { loss: string; seed: number; backend: string; device: string; status: string; history: { step: number; loss: number }[]; eval: EvalPoint[] }[];
  table: TableRow[];
}

describe('loss-lens probe (the built CLI, the probe worker, tfjs-wasm)', () => {
  it('--json: one object with every run, its history and evaluations, and the table; the loss falls', () => {
    const save = mkdtempSync(join(tmpdir(), 'loss-lens-probe-cli-'));
    try {
      const r = probe('--data=synthetic', '--train=600', '--test=200', '--steps=60', '--eval-every=30', '--eval-rows=200',
        '--losses=ce,cc-ls,soft-ce,cc', '--seeds=2', '--backend=tfjs-wasm', '--hidden=32', '--lr=0.01', `--save=${save}`, '--json');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /probe: 8 run\(s\) on tfjs-wasm, CPU \(wasm/);
      const out = JSON.parse(r.stdout) as Out;
      assert.equal(out.status, 'done');
      assert.equal(out.runs.length, 8);
      for (const run of out.runs) {
        assert.equal(run.status, 'done');
        assert.equal(run.backend, 'tfjs-wasm');
        assert.deepEqual(run.history.map((h) => h.step), Array.from({ length: 60 }, (_, i) => i + 1));
        assert.deepEqual(run.eval.map((e) => e.step), [30, 60]);
        for (const e of run.eval) {
          for (const k of ['loss', 'accuracy', 'ece', 'nearUniform', 'digitsLostMedian', 'digitsLostMax'] as const) assert.ok(Number.isFinite(e[k]), k);
          assert.equal(typeof e.naiveFailure, 'boolean');
        }
        const first = run.history.slice(0, 5).reduce((a, h) => a + h.loss, 0) / 5;
        const last = run.history.slice(-5).reduce((a, h) => a + h.loss, 0) / 5;
        assert.ok(last < first, `${run.loss} seed ${run.seed}: ${first} → ${last}`);
        assert.ok(run.eval[1].accuracy > 0.3, `${run.loss}: accuracy ${run.eval[1].accuracy}`);
      }
      assert.deepEqual(out.table.map((t) => [t.loss, t.runs]), [['ce', 2], ['cc-ls', 2], ['soft-ce', 2], ['cc', 2]]);
      for (const t of out.table) assert.ok(t.accuracyStd !== null && t.stepsPerSecond! > 0);
      const files = readdirSync(save);
      assert.equal(files.length, 1);
      const events = readFileSync(join(save, files[0]), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeEvent);
      assert.equal(events[0].type, 'probe/started');
      assert.equal(events[events.length - 1].type, 'probe/finished');
    } finally {
      rmSync(save, { recursive: true, force: true });
    }
  });

  it('trains a tfjs model.json fixture on features and targets files, removing its softmax', () => {
    const dir = join(ROOT, 'test', 'fixtures', 'models', 'tfjs-mlp');
    assert.ok(existsSync(join(dir, 'model.json')));
    const r = probe(`--model=${join(dir, 'model.json')}`, '--data=synthetic', '--classes=3', '--dim=8', '--train=300', '--test=100',
      '--steps=20', '--eval-every=10', '--losses=ce,cc-ls', '--backend=tfjs-wasm', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /softmax/);
    const out = JSON.parse(r.stdout) as Out;
    assert.deepEqual(out.runs.map((x) => x.status), ['done', 'done']);
  });

  it('exit 2 with the reason when the probe cannot run', () => {
    let r = probe('--model=preset:resnet');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown preset 'resnet' \(known: mlp, cnn\)/);
    r = probe('--data=fashion-mnist', '--losses=cc', '--steps=2', '--train=20', '--test=10', '--backend=tfjs-wasm');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /soft targets/);
    r = probe('--model=preset:cnn', '--data=synthetic', '--steps=2', '--backend=tfjs-wasm');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cnn/i);
  });
});
