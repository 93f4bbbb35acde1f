/**
 * Label statistics on a 10⁶ × 10 float32 .npy: `loss-lens inspect` against numpy computing
 * the same statistics (bench/label_stats_numpy.py, Debian's python3-numpy), each as a whole
 * process, side by side; with the peak memory of ours. Checks that both agree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PY = '/usr/bin/python3';
const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'loss-lens-labels-'));
const file = join(dir, 'soft.npy');
const failures: string[] = [];

const gen = spawnSync(PY, ['-c', `
import numpy as np
rng = np.random.default_rng(7)
z = rng.normal(0, 2, (1_000_000, 10))
e = np.exp(z - z.max(1, keepdims=True))
p = e / e.sum(1, keepdims=True)
p[::1000] *= 1.01          # some rows off the simplex
p[5::10000, 3] = np.nan    # some non-finite
np.save(${JSON.stringify(file)}, p.astype(np.float32))
`], { encoding: 'utf8' });
if (gen.status !== 0) {
  process.stdout.write(`label benchmark skipped: ${PY} with numpy is needed (apt-get install python3-numpy)\n${gen.stderr}\n`);
  process.exit(0);
}

function timed(cmd: string, args: string[]): { seconds: number; stdout: string; rssMB: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const rss = Number(/maxRSS_kB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  return { seconds, stdout: r.stdout, rssMB: rss };
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = (extra: string[], target = file) =>
  timed(process.execPath, ['--require', join(__dirname, 'maxrss.cjs'), join(ROOT, 'dist', 'cli.js'), 'inspect', target, '--json', ...extra]);
const numpy = () => timed(PY, [join(__dirname, 'label_stats_numpy.py'), file]);

const runs = { numpy: [] as number[], ours: [] as number[], full: [] as number[] };
let rss = 0;
let oursOut = '';
let numpyOut = '';
let fullRss = 0;
for (let i = 0; i < 3; i++) {
  const n = numpy();
  runs.numpy.push(n.seconds);
  numpyOut = n.stdout;
  const o = ours(['--no-naive']);
  runs.ours.push(o.seconds);
  rss = Math.max(rss, o.rssMB);
  oursOut = o.stdout;
}
for (let i = 0; i < 2; i++) {
  const f = ours([]);
  runs.full.push(f.seconds);
  fullRss = Math.max(fullRss, f.rssMB);
}

interface Figures {
  counts: Record<string, number>;
  histograms: Record<string, { counts: number[] } | number[]>;
  classCounts: number[];
  means: Record<string, number>;
}
const a = JSON.parse(oursOut) as Figures;
const b = JSON.parse(numpyOut) as Figures;
for (const k of ['valid', 'nonFinite', 'negative', 'sumOff']) if (a.counts[k] !== b.counts[k]) failures.push(`count ${k}: ${a.counts[k]} vs numpy ${b.counts[k]}`);
for (const h of ['entropy', 'maxProb', 'tvToUniform']) {
  const ours = (a.histograms[h] as { counts: number[] }).counts;
  const theirs = b.histograms[h] as number[];
  const moved = ours.reduce((s, c, i) => s + Math.abs(c - theirs[i]), 0);
  // Values on a bin edge can land either side by a rounding; allow a handful in a million.
  if (moved > 20) failures.push(`histogram ${h} differs from numpy's by ${moved} rows`);
}
if (a.classCounts.join() !== b.classCounts.join()) failures.push('class counts differ from numpy');
for (const m of Object.keys(b.means)) if (Math.abs(a.means[m] - b.means[m]) > 1e-9 * Math.max(1, Math.abs(b.means[m]))) failures.push(`mean ${m}: ${a.means[m]} vs ${b.means[m]}`);

const ratio = median(runs.ours) / median(runs.numpy);
process.stdout.write('\nLabel statistics: 10⁶ × 10 float32 .npy (40 MB), whole processes, medians\n');
process.stdout.write(`numpy (python3-numpy, vectorized)           ${median(runs.numpy).toFixed(2)} s\n`);
process.stdout.write(`loss-lens inspect --no-naive (same figures)  ${median(runs.ours).toFixed(2)} s   ratio ${ratio.toFixed(2)} (goal ≤ 1.5)   peak RSS ${rss.toFixed(0)} MB\n`);
process.stdout.write(`loss-lens inspect (with digits lost, near-uniform) ${median(runs.full).toFixed(2)} s   ratio ${(median(runs.full) / median(runs.numpy)).toFixed(2)}   peak RSS ${fullRss.toFixed(0)} MB\n`);
if (ratio > 1.5) failures.push(`inspect took ${ratio.toFixed(2)}× numpy's time (goal 1.5)`);

// --huge: a 2 GB .npy (5·10⁷ × 10 float32), to show that memory stays flat in the file's size.
if (process.argv.includes('--huge')) {
  const huge = join(dir, 'huge.npy');
  const made = spawnSync(PY, ['-c', `
import numpy as np
N, K = 50_000_000, 10
a = np.lib.format.open_memmap(${JSON.stringify(huge)}, mode='w+', dtype='<f4', shape=(N, K))
rng = np.random.default_rng(0)
for i in range(0, N, 1_000_000):
    z = rng.normal(0, 2, (1_000_000, K)).astype(np.float32)
    e = np.exp(z - z.max(1, keepdims=True))
    a[i:i + 1_000_000] = e / e.sum(1, keepdims=True)
a.flush()
`]);
  if (made.status === 0) {
    const h = ours(['--no-naive'], huge);
    const out = JSON.parse(h.stdout) as { rows: number };
    process.stdout.write(`2 GB .npy (${out.rows} × 10 float32), inspect --no-naive: ${h.seconds.toFixed(1)} s, peak RSS ${h.rssMB.toFixed(0)} MB (goal ≤ 256 MB)\n`);
    if (!(h.rssMB <= 256)) failures.push(`2 GB file: peak RSS ${h.rssMB.toFixed(0)} MB`);
  }
}
process.stdout.write(failures.length ? `Targets missed:\n- ${failures.join('\n- ')}\n` : 'Same figures as numpy; within the goal.\n');
rmSync(dir, { recursive: true, force: true });
process.exitCode = failures.length ? 1 : 0;
