/**
 * The PyTorch CC op per call (bench/cc_op.py), loss and gradient of a batch of 64 on one CPU
 * thread: (1) on PyTorch operations, the series against the default path (the contour integral
 * for K > 32 from spread 32, and for few-class rows the partial fractions cannot prove past
 * spread 600) on the same float64 logits; (2) for few classes, the PyTorch operations against
 * the native kernel on the same float32 logits, with soft-target cross-entropy for scale. Each
 * pair must agree to 1e-10 (the tests check each against the core at 1e-12).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findPython } from '../src/probe/torch/python';

const ROOT = join(__dirname, '..');

async function main(): Promise<void> {
  const found = await findPython(process.env.PYTHON);
  if ('error' in found) {
    process.stdout.write(`\nPyTorch CC op benchmark skipped: ${found.error}\n`);
    return;
  }
  const r = spawnSync(found.python, [join(ROOT, 'bench', 'cc_op.py'), ...process.argv.slice(2)], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(ROOT, 'python') },
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`bench/cc_op.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const out = JSON.parse(r.stdout) as {
    rows: { K: number; spread: number; series_ms: number; default_ms: number; difference: number }[];
    few: { K: number; spread: number; pair: boolean; ce_ms: number; ops_ms: number; native_ms: number; native_strict_ms: number; difference: number }[];
    kernel: string;
  };
  const rows = out.rows;
  process.stdout.write(`\nPyTorch CC op per call (loss + gradient, batch 64, 1 thread, ${found.python}; median ms)\n`);
  process.stdout.write(`1. PyTorch operations: the series against the default path (float64 logits)\n`);
  process.stdout.write(`  ${'K'.padStart(5)} ${'spread'.padStart(8)} ${'series'.padStart(9)} ${'default'.padStart(9)} ${'speed-up'.padStart(9)}  max difference\n`);
  let worst = 0;
  for (const x of rows) {
    worst = Math.max(worst, x.difference);
    process.stdout.write(
      `  ${String(x.K).padStart(5)} ${x.spread.toFixed(1).padStart(8)} ${x.series_ms.toFixed(1).padStart(9)} ${x.default_ms.toFixed(1).padStart(9)} ${`${(x.series_ms / x.default_ms).toFixed(1)}×`.padStart(9)}  ${x.difference.toExponential(1)}\n`,
    );
  }
  process.stdout.write(`\n2. Few classes, float32 logits: PyTorch operations against the native kernel (${out.kernel}; "3e-14": with the float64 logits' bound); soft-target CE for scale\n`);
  process.stdout.write(`  ${'K'.padStart(5)} ${'spread'.padStart(8)} ${'pair'.padStart(5)} ${'CE'.padStart(7)} ${'ops'.padStart(7)} ${'3e-14'.padStart(7)} ${'native'.padStart(7)} ${'speed-up'.padStart(9)} ${'native÷CE'.padStart(10)}  max difference\n`);
  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a').padStart(7);
  for (const x of out.few) {
    worst = Math.max(worst, x.difference);
    process.stdout.write(
      `  ${String(x.K).padStart(5)} ${x.spread.toFixed(1).padStart(8)} ${(x.pair ? 'yes' : 'no').padStart(5)} ${ms(x.ce_ms)} ${ms(x.ops_ms)} ${ms(x.native_strict_ms)} ${ms(x.native_ms)} ${`${(x.ops_ms / x.native_ms).toFixed(1)}×`.padStart(9)} ${(x.native_ms / x.ce_ms).toFixed(2).padStart(10)}  ${x.difference.toExponential(1)}\n`,
    );
  }
  if (worst > 1e-10) throw new Error(`the two paths differ by ${worst} (limit 1e-10)`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
