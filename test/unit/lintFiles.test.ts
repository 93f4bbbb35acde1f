import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { after, describe, it } from 'node:test';
import { lintText } from '../../src/core/lint/engine';
import { LintCancelled, collectFiles, compileExcludes, lintFiles } from '../../src/core/lint/files';

const SMOOTHED = 'import torch.nn.functional as F\n\nloss = F.cross_entropy(logits, y, label_smoothing=0.1)\n';
const CLEAN = 'import torch.nn.functional as F\n\nloss = F.cross_entropy(logits, y)\n';

const root = mkdtempSync(join(tmpdir(), 'loss-lens-files-'));
after(() => rmSync(root, { recursive: true, force: true }));
const put = (rel: string, text = CLEAN): void => {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
};
for (const f of ['b.py', 'a.py', 'B.py', 'x.pyi', 'u.js', 'v.tsx', 'w.cjs', 'y.jsx', 'z.mjs', 't.ts', 'notes.txt', 'README.md']) put(f);
for (const f of ['sub/c.ts', 'sub/generated_pb2.py', 'sub/deeper/d.py', 'legacy/l.py', 'gen/deep/x_pb2.py']) put(f);
// Every folder a lint must never walk into.
for (const d of ['node_modules', '.git', '.venv', 'venv', '__pycache__', 'dist', 'build', '.hidden', 'sub/node_modules']) put(`${d}/skip.py`, SMOOTHED);
// A linked folder is not walked (cycles); a linked file is linted.
symlinkSync(root, join(root, 'sub', 'loop'));
symlinkSync(join(root, 'a.py'), join(root, 'sub', 'link.py'));

// Outside the walked tree, so that the walk's expectations do not depend on test order.
const other = mkdtempSync(join(tmpdir(), 'loss-lens-files-lint-'));
after(() => rmSync(other, { recursive: true, force: true }));
const SMOOTHED_FILE = join(other, 'smoothed.py');
writeFileSync(SMOOTHED_FILE, SMOOTHED);

const rel = (files: string[]): string[] => files.map((f) => relative(root, f).split(sep).join('/'));

describe('lint files: walking', () => {
  it('finds every lintable extension, skips dependency, build and hidden folders, in code-point order', async () => {
    assert.deepEqual(rel(await collectFiles([root])), [
      'B.py',
      'a.py',
      'b.py',
      'gen/deep/x_pb2.py',
      'legacy/l.py',
      'sub/c.ts',
      'sub/deeper/d.py',
      'sub/generated_pb2.py',
      'sub/link.py',
      't.ts',
      'u.js',
      'v.tsx',
      'w.cjs',
      'x.pyi',
      'y.jsx',
      'z.mjs',
    ]);
  });
  it('the same order on every call; arguments keep their order, duplicates keep the first', async () => {
    const a = await collectFiles([root]);
    assert.deepEqual(await collectFiles([root]), a);
    const mixed = await collectFiles([join(root, 'z.mjs'), join(root, 'sub'), join(root, 'sub', 'c.ts'), join(root, 'a.py')]);
    assert.deepEqual(rel(mixed), ['z.mjs', 'sub/c.ts', 'sub/deeper/d.py', 'sub/generated_pb2.py', 'sub/link.py', 'a.py']);
  });
  it('a skipped or hidden folder given as an argument is walked; an explicit file is kept whatever its extension', async () => {
    assert.deepEqual(rel(await collectFiles([join(root, 'node_modules'), join(root, '.hidden')])), ['node_modules/skip.py', '.hidden/skip.py']);
    assert.deepEqual(rel(await collectFiles([join(root, 'notes.txt')])), ['notes.txt']);
  });
  it('a path that does not exist rejects with ENOENT', async () => {
    await assert.rejects(collectFiles([join(root, 'missing.py')]), { code: 'ENOENT' });
  });
});

describe('lint files: exclude globs', () => {
  it('a pattern without a slash matches a name at any depth; one with a slash, the path from its base', async () => {
    const files = await collectFiles([root], { exclude: [{ base: root, patterns: ['legacy', '*_pb2.py', 'sub/deeper/'] }] });
    assert.deepEqual(rel(files), ['B.py', 'a.py', 'b.py', 'sub/c.ts', 'sub/link.py', 't.ts', 'u.js', 'v.tsx', 'w.cjs', 'x.pyi', 'y.jsx', 'z.mjs']);
    const onlyPy = await collectFiles([root], { exclude: [{ base: root, patterns: ['**/*.{ts,tsx,js,cjs,mjs,jsx}', './gen/**'] }] });
    assert.deepEqual(rel(onlyPy), ['B.py', 'a.py', 'b.py', 'legacy/l.py', 'sub/deeper/d.py', 'sub/generated_pb2.py', 'sub/link.py', 'x.pyi']);
  });
  it('excludes apply to explicit files too, including a file inside an excluded folder', async () => {
    const exclude = [{ base: root, patterns: ['legacy', 'a.py'] }];
    assert.deepEqual(rel(await collectFiles([join(root, 'legacy', 'l.py'), join(root, 'a.py'), join(root, 'b.py')], { exclude })), ['b.py']);
  });
  it('patterns are relative to their base: a set based elsewhere does not touch this tree', () => {
    const excluded = compileExcludes([{ base: join(root, 'sub'), patterns: ['c.ts', 'deeper/**'] }]);
    assert.equal(excluded(join(root, 'sub', 'c.ts')), true);
    assert.equal(excluded(join(root, 'sub', 'deeper', 'd.py')), true);
    assert.equal(excluded(join(root, 'c.ts')), false, 'outside the base');
    assert.equal(excluded(join(root, 'sub')), false, 'the base itself');
  });
});

describe('lint files: linting with progress and cancellation (the real engine)', () => {
  it('results in order, progress from 0 to the total, unsupported files marked, findings from the engine', async () => {
    const files = [join(root, 'a.py'), join(root, 'notes.txt'), SMOOTHED_FILE];
    const progress: [number, number][] = [];
    const results = await lintFiles(files, { onProgress: (d, t) => progress.push([d, t]) });
    assert.deepEqual(progress, [[0, 3], [1, 3], [2, 3], [3, 3]]);
    assert.deepEqual(results.map((r) => r.file), files);
    assert.deepEqual(results[0].findings, []);
    assert.equal(results[1].unsupported, true);
    assert.deepEqual(results[2].findings.map((f) => [f.code, f.line]), [['LL101', 3]]);
  });
  it('per-file options reach the engine (ignore LL1 drops the finding)', async () => {
    const [r] = await lintFiles([SMOOTHED_FILE], { optionsFor: () => ({ ignore: ['LL1'] }) });
    assert.deepEqual(r.findings, []);
  });
  it('an unreadable file is that file’s error, not the run’s', async () => {
    const [r] = await lintFiles([join(root, 'gone.py')]);
    assert.match(r.error ?? '', /ENOENT/);
    assert.equal(r.parseError, undefined);
  });
  it('an aborted signal stops the walk and the lint with LintCancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(collectFiles([root], { signal: ac.signal }), LintCancelled);
    const stop = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      lintFiles([join(root, 'a.py'), join(root, 'b.py'), join(root, 'B.py')], {
        signal: stop.signal,
        onProgress: (done) => {
          seen.push(done);
          if (done === 1) stop.abort();
        },
      }),
      LintCancelled,
    );
    assert.deepEqual(seen, [0, 1], 'no file after the abort');
  });
  it('with concurrency, several files are in the linter at once and the results keep the input order', async () => {
    const files = ['a.py', 'b.py', 'B.py', 'notes.txt', 'gone.py', 'a.py'].map((f) => join(root, f));
    let inFlight = 0;
    let most = 0;
    // The real engine, slowed down by a different delay per file, so that they finish out of order.
    const slow: typeof lintText = async (text, language, file, options) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 + ((text.length * 7) % 23)));
      inFlight--;
      return lintText(text, language, file, options);
    };
    const progress: number[] = [];
    const results = await lintFiles(files, { lint: slow, concurrency: 3, onProgress: (d) => progress.push(d) });
    const serial = await lintFiles(files);
    assert.deepEqual(results, serial, 'the same results, in the same order, as one at a time');
    assert.ok(most >= 2 && most <= 3, `${most} files in the linter at once`);
    assert.deepEqual(progress, [0, 1, 2, 3, 4, 5, 6]);
  });
});
