/**
 * Training probes, each through the real CLI (dist/cli.js probe --json), side by side in one run:
 *
 * 1. steps/s of the bundled tfjs-wasm backend against PyTorch on the CPU, on the same CNN
 *    preset (conv 32, conv 64, dense 128) with Fashion-MNIST batches of 64. Goal: wasm at least
 *    half PyTorch's rate.
 * 2. CC-LS step time over CE step time, on both backends, at K = 10 and K = 1000 (an MLP on the
 *    synthetic set). Goal: ≤ 1.2 at K = 10, ≤ 2 at K = 1000.
 *
 * steps/s counts training steps only (evaluations excluded) and includes the first steps' warm-up.
 * PyTorch uses every core (torch.get_num_threads()); tfjs-wasm in Node runs on one thread.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { TableRow } from '../src/shared/probeProtocol';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const quick = process.argv.includes('--quick');

interface Out {
  runs: { loss: string; device: string; backend: string; status: string }[];
  table: TableRow[];
}

function probe(args: string[]): Out | string {
  const r = spawnSync(process.execPath, [CLI, 'probe', '--json', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0 && r.status !== 1) return `exit ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`;
  return JSON.parse(r.stdout) as Out;
}

const rate = (o: Out, loss: string): number => o.table.find((t) => t.loss === loss)?.stepsPerSecond ?? NaN;
const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const torch = probe(['--data=synthetic', '--train=64', '--test=16', '--steps=1', '--losses=ce', '--backend=pytorch', '--device=cpu']);
const haveTorch = typeof torch !== 'string';
if (!haveTorch) process.stdout.write(`PyTorch not available (${torch}); PyTorch columns skipped (apt-get install python3-torch)\n`);

process.stdout.write(`\nprobe benchmark: ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, node ${process.version}\n`);

// 1. The same CNN on both backends.
const cnnSteps = quick ? 20 : 60;
const cnn = ['--model=preset:cnn', '--data=fashion-mnist', '--train=2000', '--test=100', `--steps=${cnnSteps}`, `--eval-every=${cnnSteps}`, '--eval-rows=100', '--losses=ce', '--batch-size=64'];
const wasm = probe([...cnn, '--backend=tfjs-wasm']);
const pt = haveTorch ? probe([...cnn, '--backend=pytorch', '--device=cpu']) : 'skipped';
process.stdout.write(`\n1. CNN preset, Fashion-MNIST 28×28×1, batch 64, ${cnnSteps} steps (CE)\n`);
process.stdout.write(`   backend        device                          steps/s\n`);
const line = (name: string, o: Out | string): number => {
  if (typeof o === 'string') {
    process.stdout.write(`   ${name.padEnd(14)} ${o}\n`);
    return NaN;
  }
  const r = rate(o, 'ce');
  process.stdout.write(`   ${name.padEnd(14)} ${(o.runs[0]?.device ?? '').padEnd(31)} ${f(r, 2)}\n`);
  return r;
};
const rw = line('tfjs-wasm', wasm);
const rp = line('pytorch (cpu)', pt);
process.stdout.write(`   ratio wasm / PyTorch: ${f(rw / rp, 2)}   (goal ≥ 0.5)\n`);

// 2. CC-LS over CE.
process.stdout.write(`\n2. CC-LS step time / CE step time (MLP 256-256 on the synthetic set, batch 64)\n`);
process.stdout.write(`   backend        K      CE steps/s  CC-LS steps/s  ratio  goal\n`);
for (const K of [10, 1000]) {
  const steps = quick ? 40 : K === 10 ? 300 : 150;
  const common = ['--data=synthetic', `--classes=${K}`, '--dim=64', `--train=${Math.max(2000, 4 * K)}`, '--test=200', `--steps=${steps}`, `--eval-every=${steps}`, '--eval-rows=64', '--losses=ce,cc-ls', '--batch-size=64'];
  for (const [name, extra] of [['tfjs-wasm', ['--backend=tfjs-wasm']], ['pytorch (cpu)', ['--backend=pytorch', '--device=cpu']]] as const) {
    if (name.startsWith('pytorch') && !haveTorch) continue;
    const o = probe([...common, ...extra]);
    if (typeof o === 'string') {
      process.stdout.write(`   ${name.padEnd(14)} ${String(K).padEnd(6)} ${o}\n`);
      continue;
    }
    const ce = rate(o, 'ce');
    const cc = rate(o, 'cc-ls');
    process.stdout.write(`   ${name.padEnd(14)} ${String(K).padEnd(6)} ${f(ce).padStart(10)}  ${f(cc).padStart(13)}  ${f(ce / cc, 2).padStart(5)}  ≤ ${K === 10 ? '1.2' : '2'}\n`);
  }
}
