/**
 * npm run bench: speed of the exact CC normalizer against the naive formula, run side by
 * side in this process, on a grid of K and spreads; and ours against the floor of
 * K × (terms used) multiply-adds. Also checks, on each grid point, that ours is exact
 * (against the arbitrary-precision oracle) and how far off the naive formula is.
 *
 * Spread: η = spread · u with u uniform on [0, 1] and both ends attained, so ρ = max − min
 * = spread. Timings are medians of 5 runs of at least 0.1 s each.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CcWorkspace, logExpUnchecked, logNormalizer, naiveLogC } from '../src/core';
import { bigLogC } from '../test/reference/bigSeries';
import { rng } from '../test/reference/vectors';

const KS = [10, 100, 1000, 10_000];
const SPREADS = [1e-3, 1, 10, 100];
const quick = process.argv.includes('--quick');

function vectors(K: number, spread: number, n: number, seed: number): Float64Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = Float64Array.from({ length: K }, () => r() * spread);
    v[0] = 0;
    v[K - 1] = spread;
    // shuffle the ends in
    const i = Math.floor(r() * K);
    [v[0], v[i]] = [v[i], v[0]];
    return v;
  });
}

/** Median seconds per call of fn over the set, each run at least minTime seconds. */
function time(set: Float64Array[], fn: (v: Float64Array) => number, minTime = quick ? 0.03 : 0.1): number {
  const runs: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    let calls = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    do {
      for (const v of set) sink += fn(v);
      calls += set.length;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (elapsed < minTime);
    runs.push(elapsed / calls);
  }
  if (sink === 42.4242) process.stdout.write(''); // keep the results alive
  runs.sort((a, b) => a - b);
  return runs[2];
}

/**
 * Seconds per multiply-add at the best rate a plain JS loop reaches: a dot product over two
 * Float64Arrays with four independent accumulators (the floor's unit).
 */
function maddSeconds(): number {
  const n = 4096;
  const a = new Float64Array(n).fill(1.0000001);
  const b = new Float64Array(n).fill(0.9999999);
  const dot = (x: Float64Array): number => {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i += 4) {
      s0 += x[i] * b[i];
      s1 += x[i + 1] * b[i + 1];
      s2 += x[i + 2] * b[i + 2];
      s3 += x[i + 3] * b[i + 3];
    }
    return s0 + s1 + s2 + s3;
  };
  return time([a], dot) / n;
}

const fmtRate = (s: number): string => {
  const r = 1 / s;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(1);
};

const madd = maddSeconds();
process.stdout.write(`Loss Lens normalizer benchmark (node ${process.version}); one multiply-add = ${(madd * 1e9).toFixed(3)} ns\n\n`);
process.stdout.write(
  'K       spread  ours vec/s  naive vec/s  ours/naive time  terms  ours/floor  partial fr.  ours |err|/tol  naive |err| (nats)\n',
);
const ws = new CcWorkspace();
const failures: string[] = [];
for (const K of KS) {
  for (const spread of SPREADS) {
    const n = K >= 10_000 ? 2 : K >= 1000 ? 8 : 64;
    const set = vectors(K, spread, n, K * 1000 + spread);
    const ours = time(set, (v) => logNormalizer(v, ws));
    const naive = time(set, (v) => naiveLogC(v, 'float64'), K >= 10_000 ? 0.3 : undefined);
    // Terms of the series on these vectors, and how many took the partial-fraction route.
    let terms = 0;
    let series = 0;
    for (const v of set) {
      logExpUnchecked(v, K, ws);
      if (ws.nTerms > 0) {
        terms += ws.nTerms;
        series++;
      }
    }
    terms = series ? terms / series : 0;
    const viaPf = 1 - series / set.length;
    const floor = K * terms * madd;
    // exactness on the first vector of the set
    const ref = Number(bigLogC(Array.from(set[0])).logC.toString());
    const err = Math.abs(logNormalizer(set[0], ws) - ref) / (1e-13 * Math.max(1, Math.abs(ref)));
    const naiveErr = Math.abs(naiveLogC(set[0]) - ref);
    const ratio = ours / naive;
    process.stdout.write(
      `${String(K).padEnd(7)} ${String(spread).padEnd(7)} ${fmtRate(ours).padStart(10)} ${fmtRate(naive).padStart(12)} ${ratio.toFixed(2).padStart(16)} ${terms.toFixed(0).padStart(6)} ${(series ? (ours / floor).toFixed(2) : '–').padStart(11)} ${`${(100 * viaPf).toFixed(0)}%`.padStart(12)} ${err.toFixed(3).padStart(15)} ${Number.isFinite(naiveErr) ? naiveErr.toPrecision(2).padStart(19) : 'NaN/∞'.padStart(19)}\n`,
    );
    if (err > 1) failures.push(`K=${K} spread=${spread}: not exact (|err|/tol = ${err})`);
    if (ratio > 1.5) failures.push(`K=${K} spread=${spread}: ${ratio.toFixed(2)}× the naive formula's time (limit 1.5)`);
    if (K >= 100 && ratio >= 1) failures.push(`K=${K} spread=${spread}: not faster than the naive formula (${ratio.toFixed(2)}×)`);
    if (K === 10_000 && spread === 1 && ours / floor > 3) failures.push(`K=10000 spread=1: ${(ours / floor).toFixed(2)}× the floor (limit 3)`);
  }
}
process.stdout.write(failures.length ? `\nTargets missed:\n- ${failures.join('\n- ')}\n` : '\nAll targets met: exact everywhere, ≤ 1.5× the naive time, faster at K ≥ 100, ≤ 3× the floor at K = 10 000, spread 1.\n');

// Streaming: the CLI's --file mode on 10⁵ and 10⁶ vectors; flat memory means the peak RSS
// barely moves with a 10× larger file.
if (!quick || process.argv.includes('--stream')) {
  const dir = mkdtempSync(join(tmpdir(), 'loss-lens-bench-'));
  process.stdout.write('\nStreaming: loss-lens normalizer --file=F (K = 10, JSON lines out)\n');
  process.stdout.write('vectors     options              seconds  vectors/s  peak RSS (MB)\n');
  const r = rng(77);
  for (const n of [100_000, 1_000_000]) {
    const file = join(dir, `v${n}.txt`);
    const fd = openSync(file, 'w');
    for (let i = 0; i < n; i += 1000) {
      let chunk = '';
      for (let j = 0; j < 1000; j++) chunk += `${Array.from({ length: 10 }, () => (r() * 4).toFixed(6)).join(',')}\n`;
      writeSync(fd, chunk);
    }
    closeSync(fd);
    for (const opts of [['--no-naive', '--no-mean'], []]) {
      const t0 = process.hrtime.bigint();
      const res = spawnSync(process.execPath, ['--require', join(__dirname, 'maxrss.cjs'), join(__dirname, '..', 'dist', 'cli.js'), 'normalizer', `--file=${file}`, ...opts], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = Number(/maxRSS_kB=(\d+)/.exec(res.stderr)?.[1] ?? NaN) / 1024;
      if (res.status !== 0) failures.push(`streaming ${n}: exit ${res.status}: ${res.stderr}`);
      process.stdout.write(
        `${String(n).padEnd(11)} ${(opts.join(' ') || '(default)').padEnd(20)} ${secs.toFixed(2).padStart(7)} ${fmtRate(secs / n).padStart(10)} ${rss.toFixed(0).padStart(14)}\n`,
      );
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failures.length ? 1 : 0;
