import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const DIR = join(__dirname, '..', 'fixtures', 'labels', 'npy');

function inspect(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'inspect', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface InspectJson {
  rows: number;
  classes: number;
  counts: Record<string, number>;
  histograms: Record<string, { edges: number[]; counts: number[] }>;
  flagged: { row: number; reasons: string[] }[];
  means: Record<string, number | null>;
}

describe('loss-lens inspect (the built CLI)', () => {
  it('--json prints rows, classes, counts, histograms and flagged rows; exit 1 when rows are invalid', () => {
    const { code, stdout } = inspect(join(DIR, 'soft_f64.npy'), '--json');
    assert.equal(code, 1);
    const o = JSON.parse(stdout) as InspectJson;
    assert.equal(o.rows, 40);
    assert.equal(o.classes, 5);
    for (const k of ['nonFinite', 'negative', 'sumOff', 'nearUniform']) assert.equal(typeof o.counts[k], 'number', k);
    for (const h of ['entropy', 'maxProb', 'tvToUniform']) assert.equal(o.histograms[h].counts.length, 20);
    assert.deepEqual(
      o.flagged.filter((f) => !f.reasons.every((r) => r.startsWith('near-uniform'))).map((f) => f.row),
      [11, 13, 17, 19],
    );
  });
  it('exit 0 when every row is valid (one-hot integer labels), with --classes', () => {
    const { code, stdout } = inspect(join(DIR, 'labels_int64.npy'), '--json', '--classes=9');
    assert.equal(code, 0);
    const o = JSON.parse(stdout) as InspectJson;
    assert.equal(o.classes, 9);
    assert.equal(o.counts.valid, 40);
  });
  it('the same figures from the same data in every format (numpy, csv and json wrote them)', () => {
    const base = JSON.parse(inspect(join(DIR, 'soft_f64.npy'), '--json').stdout) as Record<string, unknown>;
    const rowsOnly = (flagged: unknown): unknown => (flagged as { row: number; reasons: string[] }[]).map(({ row, reasons }) => ({ row, reasons }));
    for (const f of ['soft.npz', 'soft_fortran.npy', 'soft_f64_be.npy', 'same.csv', 'same.tsv', 'same.jsonl', 'same.json']) {
      const o = JSON.parse(inspect(join(DIR, f), '--json').stdout) as Record<string, unknown>;
      for (const key of ['rows', 'classes', 'counts', 'histograms', 'means', 'classCounts', 'classMeans']) {
        assert.deepEqual(o[key], base[key], `${f}: ${key}`);
      }
      assert.deepEqual(rowsOnly(o.flagged), rowsOnly(base.flagged), `${f}: flagged`);
    }
  });
  it('flagged rows of a text file carry their line, to open the file there', () => {
    const o = JSON.parse(inspect(join(DIR, 'same.csv'), '--json').stdout) as { flagged: { row: number; line: number }[] };
    const nan = o.flagged.find((f) => f.row === 17);
    assert.equal(nan?.line, 19, 'row 17 is on line 19, after the header');
  });
  it('a readable report without --json', () => {
    const { stdout } = inspect(join(DIR, 'soft.npz'));
    assert.match(stdout, /soft\.npz: 40 rows × 5 classes \(array 'soft' \(stored\)/);
    assert.match(stdout, /non-finite 2; negative 1/);
    assert.match(stdout, /row 17: non-finite value NaN in column 3/);
  });
  it('exit 2 with the file and the byte on a file it cannot read', () => {
    const bad = inspect(join(DIR, 'truncated.npy'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /truncated\.npy \(byte 1691\): the header says shape \(40, 5\)/);
    assert.equal(inspect(join(DIR, 'missing.npy')).code, 2);
    assert.match(inspect().stderr, /give exactly one file/);
  });
});
