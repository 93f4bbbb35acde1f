/**
 * Short real probes on the PyTorch backend: the child trains, reports well-formed messages and
 * readable evaluation logits, stops when cancelled, and refuses bad inputs with clear messages.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TorchJob, TorchMessage } from '../../src/shared/probeProtocol';
import { readNpyFloat32 } from '../../src/probe/npyRead';
import { writeNpy } from '../../src/probe/torch/npyWrite';
import { runTorchJob } from '../../src/probe/torch/torchRunner';
import { rng } from '../reference/vectors';
import { torchPython } from '../fixtures/torch/torchEnv';

const K = 4;
const D = 10;
const N_TRAIN = 512;
const N_TEST = 128;
const dir = mkdtempSync(join(tmpdir(), 'loss-lens-torch-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Gaussian clusters around random class means: learnable in a few dozen steps. */
function writeSyntheticData(): TorchJob['data'] {
  const r = rng(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const means = Array.from({ length: K }, () => Array.from({ length: D }, () => 1.5 * gauss()));
  const make = (n: number): { x: Float32Array; labels: number[] } => {
    const x = new Float32Array(n * D);
    const labels = Array.from({ length: n }, (_, i) => {
      const c = Math.floor(r() * K);
      for (let d = 0; d < D; d++) x[i * D + d] = means[c][d] + gauss();
      return c;
    });
    return { x, labels };
  };
  const train = make(N_TRAIN);
  const test = make(N_TEST);
  const targets = (alpha: number): Float32Array => {
    const t = new Float32Array(N_TRAIN * K).fill(alpha / K);
    train.labels.forEach((c, i) => (t[i * K + c] += 1 - alpha));
    return t;
  };
  const p = (name: string): string => join(dir, name);
  writeNpy(p('x_train.npy'), train.x, [N_TRAIN, D]);
  writeNpy(p('x_test.npy'), test.x, [N_TEST, D]);
  writeNpy(p('onehot.npy'), targets(0), [N_TRAIN, K]);
  writeNpy(p('ls.npy'), targets(0.1), [N_TRAIN, K]);
  return { xTrain: p('x_train.npy'), xTest: p('x_test.npy'), inputShape: [D], classes: K, targetsTrain: { onehot: p('onehot.npy'), ls: p('ls.npy') } };
}

let data: TorchJob['data'];
let python: string;

function job(over: Partial<TorchJob> = {}): TorchJob {
  return {
    data,
    model: { kind: 'preset', preset: 'mlp', options: { hidden: 32, batchNorm: false, dropout: 0, weightDecay: 1e-4 } },
    runs: [
      { runId: 'ce-s1', loss: 'ce', seed: 1 },
      { runId: 'cc-ls-s1', loss: 'cc-ls', seed: 1 },
    ],
    steps: 60,
    batchSize: 32,
    learningRate: 0.01,
    optimizer: 'adam',
    evalEvery: 25,
    evalRows: 64,
    device: 'cpu',
    workDir: dir,
    ...over,
  };
}

async function run(j: TorchJob, signal?: AbortSignal): Promise<{ messages: TorchMessage[]; code: number | null; stderrTail: string }> {
  const messages: TorchMessage[] = [];
  const r = await runTorchJob(python, j, (m) => messages.push(m), { signal });
  return { messages, ...r };
}

const finishedOf = (ms: TorchMessage[], runId: string) =>
  ms.find((m): m is Extract<TorchMessage, { type: 'run/finished' }> => m.type === 'run/finished' && m.runId === runId);

before(async () => {
  python = (await torchPython()).python;
  data = writeSyntheticData();
});

describe('PyTorch probe', () => {
  it('trains the mlp preset with ce and cc-ls: the loss falls, every message is well-formed, eval logits are readable', async () => {
    const { messages, code, stderrTail } = await run(job());
    assert.equal(code, 0, stderrTail);
    const hello = messages[0];
    assert.ok(hello.type === 'hello' && /^\d/.test(hello.torch) && /^CPU \(/.test(hello.device) && /^3\./.test(hello.python), JSON.stringify(hello));
    assert.ok(!messages.some((m) => m.type === 'error'), JSON.stringify(messages.find((m) => m.type === 'error')));
    for (const runId of ['ce-s1', 'cc-ls-s1']) {
      const mine = messages.filter((m) => 'runId' in m && m.runId === runId);
      const started = mine[0];
      assert.ok(started.type === 'run/started' && /mlp/.test(started.model), JSON.stringify(started));
      assert.equal(started.parameters, D * 32 + 32 + 32 * 32 + 32 + 32 * K + K, 'parameters of D→32→32→K');
      const steps: number[] = [];
      const losses: number[] = [];
      const evals: number[] = [];
      for (const m of mine.slice(1)) {
        if (m.type === 'run/steps') {
          assert.equal(m.steps.length, m.losses.length);
          assert.ok(m.steps.length >= 1 && m.steps.length <= 10, 'batched, at most 10 steps a message');
          steps.push(...m.steps);
          losses.push(...m.losses);
        } else if (m.type === 'eval') {
          evals.push(m.step);
          const logits = readNpyFloat32(readFileSync(m.path), m.path);
          assert.equal(logits.length, 64 * K, 'evalRows × K logits');
          assert.ok(logits.every(Number.isFinite));
        }
      }
      assert.deepEqual(steps, Array.from({ length: 60 }, (_, i) => i + 1), 'every step once, in order, from 1');
      assert.ok(losses.every(Number.isFinite));
      assert.deepEqual(evals, [25, 50, 60], 'every evalEvery steps and at the last');
      const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
      const first = mean(losses.slice(0, 5));
      const last = mean(losses.slice(-10));
      assert.ok(last < first - 0.3, `${runId}: training loss fell from ${first} to ${last}`);
      const fin = finishedOf(messages, runId)!;
      assert.equal(fin.status, 'done', fin.message);
      assert.ok(fin.seconds > 0 && fin.seconds < 60);
      assert.equal(mine[mine.length - 1], fin, 'run/finished is its last message');
    }
  });

  it('trains the cnn preset (BatchNorm, dropout) on NHWC images and the mlp preset with BatchNorm', async () => {
    const r = rng(11);
    const n = 64;
    const x = Float32Array.from({ length: n * 8 * 8 * 1 }, () => r() - 0.5);
    writeNpy(join(dir, 'img.npy'), x, [n, 8, 8, 1]);
    const onehot = new Float32Array(n * K);
    for (let i = 0; i < n; i++) onehot[i * K + (i % K)] = 1;
    writeNpy(join(dir, 'img_onehot.npy'), onehot, [n, K]);
    const images = { xTrain: join(dir, 'img.npy'), xTest: join(dir, 'img.npy'), inputShape: [8, 8, 1], classes: K, targetsTrain: { onehot: join(dir, 'img_onehot.npy') } };
    const options = { hidden: 16, batchNorm: true, dropout: 0.25, weightDecay: 1e-3 };
    const cnn = { kind: 'preset', preset: 'cnn', options } as const;
    const mlp = { kind: 'preset', preset: 'mlp', options } as const;
    // conv 1→32 + BN, conv 32→64 + BN, two 2×2 pools (8 → 2), dense 256→16 + BN, dense 16→K.
    const cnnParams = 9 * 32 + 32 + 64 + (9 * 32 * 64 + 64) + 128 + (256 * 16 + 16) + 32 + (16 * K + K);
    const mlpParams = (64 * 16 + 16) + 32 + (16 * 16 + 16) + 32 + (16 * K + K);
    for (const [model, params] of [[cnn, cnnParams], [mlp, mlpParams]] as const) {
      const { messages, code, stderrTail } = await run(job({ data: images, model, runs: [{ runId: 'img', loss: 'ce', seed: 4 }], steps: 12, batchSize: 16, evalEvery: 6, evalRows: 8 }));
      assert.equal(code, 0, stderrTail);
      const started = messages.find((m) => m.type === 'run/started');
      assert.ok(started && started.type === 'run/started' && started.parameters === params, `${model.preset}: ${JSON.stringify(started)}, expected ${params} parameters`);
      assert.equal(finishedOf(messages, 'img')?.status, 'done', JSON.stringify(finishedOf(messages, 'img')));
      assert.equal(messages.filter((m) => m.type === 'eval').length, 2);
    }
  });

  it('stops within 1 s of a cancel', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    const p = runTorchJob(python, job({ steps: 1_000_000, evalEvery: 1_000_000 }), (m) => {
      if (m.type === 'run/steps' && !abortedAt) {
        abortedAt = Date.now();
        ac.abort();
      }
    }, { signal: ac.signal });
    const r = await p;
    const took = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'training had started');
    assert.ok(took < 1000, `the child ended ${took} ms after the abort`);
    assert.notEqual(r.code, 0);
  });

  it('reports a missing data file as an error message and exits with 1', async () => {
    const missing = join(dir, 'no-such-file.npy');
    const { messages, code } = await run(job({ data: { ...data, xTrain: missing } }));
    assert.equal(code, 1);
    const err = messages.find((m) => m.type === 'error');
    assert.ok(err && err.type === 'error' && err.message.includes(missing) && /cannot read xTrain/.test(err.message), JSON.stringify(messages));
  });

  it('stops a run whose loss is not finite as diverged, naming the step, and goes on to the next run', async () => {
    const { messages, code } = await run(job({ learningRate: 1e38, optimizer: 'sgd', steps: 30, runs: [{ runId: 'boom', loss: 'ce', seed: 3 }, { runId: 'soft', loss: 'cc', seed: 3 }] }));
    assert.equal(code, 0);
    const boom = finishedOf(messages, 'boom')!;
    assert.equal(boom.status, 'diverged');
    assert.match(boom.message ?? '', /not finite at step \d+/);
    const soft = finishedOf(messages, 'soft')!;
    assert.equal(soft.status, 'failed', 'no soft targets in this job');
    assert.match(soft.message ?? '', /no 'soft' targets/);
  });
});

describe('PyTorch probe with TorchScript files', () => {
  let fixtures: string;
  before(() => {
    fixtures = join(dir, 'ts');
    execFileSync(python, [join(__dirname, '..', 'fixtures', 'torch', 'make_torchscript.py'), fixtures, String(D), String(K)]);
  });

  it('loads a TorchScript model and trains it; a model that prints does not corrupt the messages', async () => {
    for (const file of ['tiny.pt', 'chatty.pt']) {
      const { messages, code, stderrTail } = await run(job({ model: { kind: 'file', path: join(fixtures, file) }, runs: [{ runId: 'ts', loss: 'cc-ls', seed: 2 }], steps: 30 }));
      assert.equal(code, 0, stderrTail);
      assert.ok(!messages.some((m) => m.type === 'error'), JSON.stringify(messages.find((m) => m.type === 'error')));
      const started = messages.find((m) => m.type === 'run/started');
      assert.ok(started && started.type === 'run/started' && started.model.includes(`TorchScript ${file}`), JSON.stringify(started));
      assert.equal(started.parameters, D * 8 + 8 + 8 * K + K);
      const fin = finishedOf(messages, 'ts')!;
      assert.equal(fin.status, 'done', fin.message);
      assert.equal(messages.filter((m) => m.type === 'eval').length, 2);
      if (file === 'chatty.pt') assert.match(stderrTail, /forward on 32 rows/, 'its prints went to stderr');
    }
  });

  it('refuses a file that is not TorchScript, saying how to make one, and a model of the wrong width', async () => {
    for (const [file, re] of [
      ['state_dict.pt', /is not a TorchScript model .*Only TorchScript is supported.*torch\.jit\.save\(torch\.jit\.script\(model\)/s],
      ['wrong_classes.pt', /outputs \[2, 5\] for 2 rows; a probe needs logits with 4 columns/],
    ] as const) {
      const { messages, code } = await run(job({ model: { kind: 'file', path: join(fixtures, file) }, runs: [{ runId: 'f', loss: 'ce', seed: 1 }], steps: 5 }));
      assert.equal(code, 0);
      const fin = finishedOf(messages, 'f')!;
      assert.equal(fin.status, 'failed');
      const started = messages.find((m) => m.type === 'run/started');
      assert.ok(started && started.type === 'run/started' && started.parameters === 0, 'announced, so that the host shows the failure');
      assert.match(fin.message ?? '', re);
    }
  });

  it('a non-TorchScript extension is refused too', async () => {
    const odd = join(dir, 'model.onnx');
    writeFileSync(odd, 'x');
    const { messages } = await run(job({ model: { kind: 'file', path: odd }, runs: [{ runId: 'f', loss: 'ce', seed: 1 }], steps: 5 }));
    assert.match(finishedOf(messages, 'f')?.message ?? '', /loads TorchScript files \(\.pt, \.pth, \.ts\)/);
  });
});
