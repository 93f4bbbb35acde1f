/**
 * The PyTorch CC loss (python/loss_lens_probe/cc.py) against the float64 TypeScript core:
 * value and gradient at every spread a network produces, from exactly uniform rows to large.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ccNllBatch } from '../../src/core';
import { rng } from '../reference/vectors';
import { runPython, torchPython } from '../fixtures/torch/torchEnv';

const KS = [2, 3, 10, 100, 1000];
// 0 is exactly uniform; 1000 takes the rescaled path (terms beyond e^600).
const SPREADS = [0, 1e-6, 1e-3, 1, 10, 200, 680, 700, 1000, 1300, 1600];
const ROWS = 4;
// The series with each evaluation of its mean (the contour integral off, so that rows of many
// classes take the series too; gemm runs the few-class CPU path on its PyTorch operations),
// then the default: the native few-class kernel where it builds, the contour integral for
// K > 32 at spreads from 32, on these cases and on larger spreads (CONTOUR_CASES); then the
// default with the few-class path on its PyTorch operations ('ops', the cases with K ≤ 32).
const METHODS = ['table', 'loop', 'gemm', 'contour', 'ops'] as const;

interface Case {
  K: number;
  spread: number | string;
  /** Forces the mean's method (and with it the path) in the contour run. */
  mean?: 'table';
  dtype: 'float32' | 'float64';
  z: number[][];
  y: number[][];
}

function makeCases(): Case[] {
  const r = rng(20240611);
  const cases: Case[] = [];
  for (const dtype of ['float64', 'float32'] as const) {
    // Round to float32 first for float32 cases, so both sides see the same numbers.
    const cast = dtype === 'float32' ? Math.fround : (v: number) => v;
    const row = (K: number, spread: number): { z: number[]; y: number[] } => {
      const offset = (r() - 0.5) * 6;
      const z = Array.from({ length: K }, () => cast(offset + spread * r()));
      const e = Array.from({ length: K }, () => -Math.log(1 - r()));
      const s = e.reduce((a, b) => a + b, 0);
      return { z, y: e.map((v) => cast(v / s)) };
    };
    for (const K of KS) {
      for (const spread of SPREADS) {
        const rows = Array.from({ length: ROWS }, () => row(K, spread));
        cases.push({ K, spread, dtype, z: rows.map((x) => x.z), y: rows.map((x) => x.y) });
      }
      // One batch mixing every spread: small rows share the series length of the largest.
      const rows = SPREADS.map((s) => row(K, s));
      cases.push({ K, spread: 'mixed', dtype, z: rows.map((x) => x.z), y: rows.map((x) => x.y) });
    }
    // Training-sized batches at small K (the CPU small-K path picks its loop over its doubling
    // for many rows): spreads below the partial fractions' reach, and large spreads with a close
    // pair in every row, which the partial fractions cannot prove.
    for (const K of [10, 32]) {
      for (const spread of [20, 300]) {
        const rows = Array.from({ length: 64 }, () => {
          const x = row(K, spread);
          if (spread > 100) x.z[1] = cast(x.z[0] + 1e-3 * r());
          return x;
        });
        cases.push({ K, spread, dtype, z: rows.map((x) => x.z), y: rows.map((x) => x.y) });
      }
      // One batch of every kind of row the few-class path meets: series, partial fractions, a
      // close pair at spread 300 (the series), and past spread 600 a close pair (which the
      // native kernel leaves to the PyTorch path) or none.
      const rows = [20, 300, 300, 3000, 3000, 0, 1e-6, 40].map((spread, i) => {
        const x = row(K, spread);
        if (i === 2) x.z[1] = cast(x.z[0] + 1e-3 * r());
        if (i === 3) {
          // On top: the partial fractions cannot prove it (a pair lower down they can).
          const top = Math.max(...x.z);
          [x.z[0], x.z[1]] = [top, cast(top - 1e-3 * r())];
        }
        return x;
      });
      cases.push({ K, spread: 'every kind', dtype, z: rows.map((x) => x.z), y: rows.map((x) => x.y) });
    }
  }
  return cases;
}

/**
 * Spreads where the series is long and the contour integral takes over, in the shapes CC
 * training produces and the ones that are hard for each of its two contours: nodes spread
 * evenly or like a Gaussian sample (whose top values stand apart), one node far above the rest,
 * two values, a close pair at the top.
 */
function makeContourCases(): Case[] {
  const r = rng(20261127);
  const cases: Case[] = [];
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const shapes: Record<string, (K: number) => number[]> = {
    even: (K) => Array.from({ length: K }, () => r()),
    gaussian: (K) => Array.from({ length: K }, gauss),
    'one far node': (K) => Array.from({ length: K }, (_, k) => (k === 3 ? 1 : 0.05 * r())),
    'two values': (K) => Array.from({ length: K }, (_, k) => (k % 2 ? 1 : 0)),
    'close pair on top': (K) => Array.from({ length: K }, (_, k) => (k < 2 ? 1 - 1e-6 * k : 0.9 * r())),
  };
  for (const dtype of ['float64', 'float32'] as const) {
    const cast = dtype === 'float32' ? Math.fround : (v: number) => v;
    // (K ≤ 32: rows the partial fractions cannot prove, at spreads past the short series, take
    // the contour too: two values, a close pair.)
    for (const K of [10, 32, 40, 100, 1000]) {
      for (const spread of [40, 3000, 10000]) {
        for (const [name, shape] of Object.entries(shapes)) {
          const rows = Array.from({ length: 3 }, () => {
            const u = shape(K);
            const lo = Math.min(...u);
            const hi = Math.max(...u);
            const offset = (r() - 0.5) * 6;
            const z = u.map((v) => cast(offset + ((v - lo) / (hi - lo)) * spread));
            const e = Array.from({ length: K }, () => -Math.log(1 - r()));
            const sum = e.reduce((a, b) => a + b, 0);
            return { z, y: e.map((v) => cast(v / sum)) };
          });
          cases.push({ K, spread: `${spread} (${name})`, dtype, z: rows.map((x) => x.z), y: rows.map((x) => x.y) });
        }
      }
    }
  }
  return cases;
}

describe('PyTorch cc_nll against the float64 core', () => {
  const seriesCases = makeCases();
  const contourCases = makeContourCases();
  // The contour run also sends the few-class contour cases down the general path (mean by
  // table, as on a GPU), which takes the contour before the partial fractions there.
  const generalPath = contourCases.filter((c) => c.K <= 32).map((c) => ({ ...c, mean: 'table' as const }));
  const casesOf = (method: (typeof METHODS)[number]): Case[] =>
    method === 'contour' ? [...seriesCases, ...contourCases, ...generalPath] : method === 'ops' ? [...seriesCases, ...contourCases].filter((c) => c.K <= 32) : seriesCases;
  const request = (method: (typeof METHODS)[number], c: Case): object => {
    if (method === 'contour') return { z: c.z, y: c.y, dtype: c.dtype, mean: c.mean };
    if (method === 'ops') return { z: c.z, y: c.y, dtype: c.dtype, native: false };
    return { z: c.z, y: c.y, dtype: c.dtype, mean: method, contour: false, native: false };
  };
  let answers: { loss: number[]; grad: number[][] }[] = [];
  // The core's values, once per batch of logits (several runs send the same batches).
  const refs = new WeakMap<number[][], ReturnType<typeof ccNllBatch>>();
  const reference = (c: Case): ReturnType<typeof ccNllBatch> => {
    let ref = refs.get(c.z);
    if (!ref) refs.set(c.z, (ref = ccNllBatch(Float64Array.from(c.z.flat()), Float64Array.from(c.y.flat()), { rows: c.z.length, cols: c.K })));
    return ref;
  };

  // Where each method's answers start in the one list of answers.
  const start = METHODS.map((_, mi) => METHODS.slice(0, mi).reduce((n, m) => n + casesOf(m).length, 0));

  before(async () => {
    const { python } = await torchPython();
    // The series' mean (the gradient) by its table method (GPU default), its loop method, and the
    // shared-coefficient matrix product (CPU default; in logs beyond spread 700); then the default.
    const input = METHODS.flatMap((method) => casesOf(method).map((c) => JSON.stringify(request(method, c)))).join('\n') + '\n';
    const out = await runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], input);
    answers = out.trim().split('\n').map((l) => JSON.parse(l) as { loss: number[]; grad: number[][] });
  });

  for (const [mi, method] of METHODS.entries()) {
    for (const dtype of ['float64', 'float32'] as const) {
      // float32: the output's own rounding (6e-8) is all that should show; float64: a few ulps.
      const tol = dtype === 'float32' ? 1e-5 : 1e-12;
      const what =
        method === 'contour'
          ? 'by default (the native few-class kernel, the contour integral for K > 32 and for rows past the short series, spreads to 10^4)'
          : method === 'ops'
            ? 'K ≤ 32 by default on PyTorch operations (no native kernel)'
            : `the series, mean by ${method}`;
      it(`${dtype}, ${what}: loss within ${tol} relative and gradient within ${tol} of its max-abs`, () => {
        assert.equal(answers.length, start[METHODS.length - 1] + casesOf(METHODS[METHODS.length - 1]).length, 'one answer per request');
        let worstLoss = 0;
        let worstGrad = 0;
        casesOf(method).forEach((c, i) => {
          if (c.dtype !== dtype) return;
          const n = c.z.length;
          const ref = reference(c);
          const got = answers[start[mi] + i];
          for (let rIdx = 0; rIdx < n; rIdx++) {
            const what = `K = ${c.K}, spread ${c.spread}, row ${rIdx}`;
            const want = ref.loss[rIdx];
            // Relative, but to at least 1: K = 2 at a uniform row has loss exactly 0.
            const errL = Math.abs(got.loss[rIdx] - want) / Math.max(1, Math.abs(want));
            assert.ok(errL <= tol, `${what}: loss ${got.loss[rIdx]}, core ${want}, relative error ${errL}`);
            worstLoss = Math.max(worstLoss, errL);
            let maxAbs = 0;
            let maxErr = 0;
            for (let k = 0; k < c.K; k++) {
              const g = ref.grad[rIdx * c.K + k];
              maxAbs = Math.max(maxAbs, Math.abs(g));
              assert.ok(Number.isFinite(got.grad[rIdx][k]), `${what}: gradient ${k} is ${got.grad[rIdx][k]}`);
              maxErr = Math.max(maxErr, Math.abs(got.grad[rIdx][k] - g));
            }
            const errG = maxErr / Math.max(maxAbs, 1e-300);
            assert.ok(errG <= tol, `${what}: gradient off by ${maxErr}, ${errG} of its max-abs ${maxAbs}`);
            worstGrad = Math.max(worstGrad, errG);
          }
        });
        console.log(`  ${dtype}, ${method}: worst relative loss error ${worstLoss.toExponential(2)}, gradient ${worstGrad.toExponential(2)}`);
      });
    }
  }

  it('the contour cases with K > 32 are taken by the contour integral, by the line or the hyperbola, none left to the series', async () => {
    const { python } = await torchPython();
    const input = contourCases.filter((c) => c.dtype === 'float64' && c.K > 32).map((c) => JSON.stringify({ z: c.z, y: c.y, paths: true })).join('\n') + '\n';
    const out = await runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], input);
    const total = { line: 0, hyperbola: 0, neither: 0 };
    for (const l of out.trim().split('\n')) {
      const p = (JSON.parse(l) as { paths: typeof total }).paths;
      total.line += p.line;
      total.hyperbola += p.hyperbola;
      total.neither += p.neither;
    }
    console.log(`  rows by contour: ${JSON.stringify(total)}`);
    assert.equal(total.neither, 0, 'every row accepted by one of the two contours');
    assert.ok(total.line > 0 && total.hyperbola > 0, 'both contours take rows');
  });

  it('builds the native few-class kernel where there is a C compiler (into a fresh cache), and reports why not where there is none', async () => {
    const { python } = await torchPython();
    const cache = mkdtempSync(join(tmpdir(), 'loss-lens-cache-'));
    try {
      const kernel = (env: NodeJS.ProcessEnv): Promise<{ native: boolean; status: string }> =>
        runPython(python, ['-m', 'loss_lens_probe', '--cc-kernel'], '', 120_000, env).then((o) => JSON.parse(o) as { native: boolean; status: string });
      const compiler = ['cc', 'gcc', 'clang'].some((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
      const built = await kernel({ LOSS_LENS_CACHE: cache });
      console.log(`  ${built.status}`);
      if (compiler) {
        assert.equal(built.native, true, built.status);
        assert.ok(readdirSync(cache).some((f) => /^cc_small-[0-9a-f]{16}\.so$/.test(f)), 'the library is in the cache');
      } else {
        assert.match(built.status, /no C compiler/);
      }
      const off = await kernel({ LOSS_LENS_CACHE: cache, LOSS_LENS_NATIVE: '0' });
      assert.deepEqual(off, { native: false, status: 'PyTorch operations (LOSS_LENS_NATIVE=0)' });
      const broken = await kernel({ LOSS_LENS_CACHE: cache, CC: join(cache, 'no-such-compiler') });
      assert.equal(broken.native, false);
      assert.match(broken.status, /native kernel unavailable: .*no-such-compiler/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('the native kernel leaves rows past spread 600 that the partial fractions cannot prove to the PyTorch path (checked above in the same batches)', async (t) => {
    const { python } = await torchPython();
    const every = seriesCases.filter((c) => c.spread === 'every kind');
    const input = every.map((c) => JSON.stringify({ z: c.z, y: c.y, dtype: c.dtype, kernel: true })).join('\n') + '\n';
    const left = (await runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], input))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { kernel: { left: number } | null }).kernel?.left ?? null);
    if (left.some((n) => n === null)) {
      t.skip('no native kernel here (no C compiler)');
      return;
    }
    // Each batch has two rows past spread 600: one with a close pair on top, which the partial
    // fractions cannot prove, and one they may (at K = 10 they do; at K = 32 not).
    console.log(`  rows left per batch: ${left.join(', ')}`);
    assert.ok(left.every((n) => n !== null && n >= 1 && n <= 2), `rows left: ${left.join(', ')}`);
  });

  it('the native kernel’s bound for float32 logits (1e-10) holds, checked in float64 on CC-LS-shaped rows that 3e-14 cannot prove', async (t) => {
    const { python } = await torchPython();
    const r = rng(20261128);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    // As CC-LS training makes them: the label's logit far above the others, which cluster.
    const batches = [
      { K: 10, top: 25, width: 1 },
      { K: 32, top: 100, width: 10 },
      { K: 32, top: 200, width: 30 },
    ].map(({ K, top, width }) => {
      const z = Array.from({ length: 32 }, () => [top * (1 + r()), ...Array.from({ length: K - 1 }, () => width * (0.5 + r()) * gauss())]);
      const y = z.map(() => Array.from({ length: K }, (_, k) => (k === 0 ? 0.9 : 0) + 0.1 / K));
      return { K, z, y };
    });
    const ask = (extra: object): Promise<{ loss: number[]; grad: number[][]; kernel: { pf: number; series: number; left: number } | null }[]> =>
      runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], batches.map((b) => JSON.stringify({ z: b.z, y: b.y, kernel: true, ...extra })).join('\n') + '\n').then((o) =>
        o.trim().split('\n').map((l) => JSON.parse(l) as { loss: number[]; grad: number[][]; kernel: { pf: number; series: number; left: number } | null }),
      );
    const strict = await ask({});
    if (strict.some((a) => a.kernel === null)) {
      t.skip('no native kernel here (no C compiler)');
      return;
    }
    const loose = await ask({ nativeTol: 1e-10 });
    let worstLoss = 0;
    let worstGrad = 0;
    batches.forEach((b, i) => {
      const pfStrict = strict[i].kernel!.pf;
      const pfLoose = loose[i].kernel!.pf;
      assert.ok(pfLoose > pfStrict, `K = ${b.K}: the looser bound proves more rows (${pfLoose} against ${pfStrict})`);
      const ref = ccNllBatch(Float64Array.from(b.z.flat()), Float64Array.from(b.y.flat()), { rows: b.z.length, cols: b.K });
      b.z.forEach((row, j) => {
        // The bound is on log exp[z] (relative) and on each mu_j (absolute); loss = log exp[z] - y.z.
        const logExp = ref.loss[j] + row.reduce((a, v, k) => a + v * b.y[j][k], 0);
        const errL = Math.abs(loose[i].loss[j] - ref.loss[j]) / Math.max(1, Math.abs(logExp));
        const errG = Math.max(...row.map((_, k) => Math.abs(loose[i].grad[j][k] - ref.grad[j * b.K + k])));
        assert.ok(errL <= 1e-10 && errG <= 1e-10, `K = ${b.K}, row ${j}: loss off by ${errL} of log exp, gradient by ${errG}`);
        worstLoss = Math.max(worstLoss, errL);
        worstGrad = Math.max(worstGrad, errG);
      });
    });
    console.log(`  rows by the partial fractions at 3e-14 / 1e-10: ${batches.map((_, i) => `${strict[i].kernel!.pf}/${loose[i].kernel!.pf}`).join(', ')} of 32; worst error ${worstLoss.toExponential(1)} (log exp), ${worstGrad.toExponential(1)} (gradient)`);
  });

  it('gives NaN in a row with a non-finite logit and exact values in the others, native or not', async () => {
    const { python } = await torchPython();
    const z = [
      [0.5, 2, -1, 3],
      [0, 1e999, 1, 2],
      [1, 1, 1, 1],
    ];
    const y = [
      [0.1, 0.2, 0.3, 0.4],
      [0.25, 0.25, 0.25, 0.25],
      [0.7, 0.1, 0.1, 0.1],
    ];
    // JSON has no infinity (JSON.stringify writes null); Python reads 1e999 as one, and writes NaN.
    const input = [true, false].map((native) => JSON.stringify({ z, y, native }).replaceAll('null', '1e999')).join('\n') + '\n';
    const lines = (await runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], input)).trim().split('\n');
    const zf = z.filter((_, i) => i !== 1);
    const ref = ccNllBatch(Float64Array.from(zf.flat()), Float64Array.from(y.filter((_, i) => i !== 1).flat()), { rows: 2, cols: 4 });
    for (const [i, line] of lines.entries()) {
      const got = JSON.parse(line.replaceAll('NaN', 'null')) as { loss: (number | null)[] };
      assert.equal(got.loss[1], null, `native ${i === 0}: the row with an infinite logit is NaN`);
      for (const [j, row] of [0, 2].entries()) {
        assert.ok(Math.abs(got.loss[row]! - ref.loss[j]) <= 1e-12 * Math.max(1, Math.abs(ref.loss[j])), `native ${i === 0}, row ${row}: ${got.loss[row]} vs ${ref.loss[j]}`);
      }
    }
  });

  it('refuses spreads above 1e6 with a clear error', async () => {
    const { python } = await torchPython();
    await assert.rejects(
      runPython(python, ['-m', 'loss_lens_probe', '--cc-check'], JSON.stringify({ z: [[0, 2e6]], y: [[0.5, 0.5]] }) + '\n'),
      /spread max\(z\) - min\(z\) = 2e\+06 exceeds 1e\+06/,
    );
  });
});
