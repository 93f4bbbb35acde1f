/**
 * npm run reproduce: cross-entropy vs label smoothing vs CC-LS on Fashion-MNIST, with the
 * paper's kind of CNN without BatchNorm, three seeds; a subset sized to run in minutes on a
 * CPU. Prints the results table (held-out accuracy and calibration over the seeds) as measured.
 * PyTorch on the CPU when Debian's python3-torch (or another torch) is found, else tfjs-wasm.
 *
 *   npm run reproduce [-- --backend=tfjs-wasm] [-- --steps=N]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const passed = process.argv.slice(2);
const opt = (k: string): string | undefined => passed.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);

let backend = opt('backend');
if (!backend) {
  const check = spawnSync(process.execPath, [CLI, 'probe', '--data=synthetic', '--train=64', '--test=16', '--steps=1', '--losses=ce', '--backend=pytorch', '--device=cpu'], { encoding: 'utf8' });
  backend = check.status === 0 ? 'pytorch' : 'tfjs-wasm';
}
const steps = opt('steps') ?? '600';
const args = [
  CLI, 'probe', '--model=preset:cnn', '--no-batch-norm', '--data=fashion-mnist', '--train=12000', '--test=2000', '--eval-rows=2000',
  `--steps=${steps}`, '--eval-every=250', '--losses=ce,ls,cc-ls', '--alpha=0.1', '--seeds=3', '--batch-size=64', '--lr=1e-3',
  `--backend=${backend}`, ...(backend === 'pytorch' ? ['--device=cpu'] : []),
];
process.stdout.write(`reproduce: ${args.slice(1).join(' ')}\n`);
const t0 = Date.now();
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(r.stdout);
process.stdout.write(`\n${((Date.now() - t0) / 60000).toFixed(1)} min; accuracy and ECE on 2000 held-out Fashion-MNIST test images, mean ± std over 3 seeds\n`);
process.exitCode = r.status ?? 1;
