/**
 * What the extension package holds: package.json `files` is the one list (npm pack and vsce both
 * read it; a .vscodeignore would override it for vsce, and an old one once left the workers, the
 * wasm binaries and the Python package out). Every file the built extension loads at run time
 * must be in it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');

describe('extension package contents', () => {
  it('has every worker, wasm binary and Python probe file, and no .vscodeignore to override the list', () => {
    assert.equal(existsSync(join(ROOT, '.vscodeignore')), false, '.vscodeignore would make vsce ignore package.json files');
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    const want = [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'media/icon.svg',
      'media/panel.css',
      'dist/webview/panel.js',
      // Every bundle esbuild writes (the extension, the CLI, the worker threads they start).
      ...readdirSync(join(ROOT, 'dist'))
        .filter((f) => f.endsWith('.js'))
        .map((f) => `dist/${f}`),
      ...readdirSync(join(ROOT, 'dist', 'tfjs-wasm')).map((f) => `dist/tfjs-wasm/${f}`),
      ...readdirSync(join(ROOT, 'dist', 'tree-sitter')).map((f) => `dist/tree-sitter/${f}`),
      ...readdirSync(join(ROOT, 'python', 'loss_lens_probe'))
        .filter((f) => /\.(py|c)$/.test(f))
        .map((f) => `python/loss_lens_probe/${f}`),
    ];
    assert.ok(want.some((f) => f.endsWith('.wasm')) && want.includes('python/loss_lens_probe/cc_small.c'), 'the build outputs exist');
    const missing = want.filter((f) => !files.has(f));
    assert.deepEqual(missing, [], `not in the package: ${missing.join(', ')}`);
    assert.ok(![...files].some((f) => f.endsWith('.map') || f.startsWith('dist/test/') || f.startsWith('src/')), 'no sources, maps or tests');
  });
});
