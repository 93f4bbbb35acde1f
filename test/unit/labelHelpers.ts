import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabelChunk, LabelSource } from '../../src/core/labels/types';

/** The 40 × 5 soft labels (and class labels) numpy wrote the .npy fixtures from. */
export interface NumpyValues {
  N: number;
  K: number;
  soft: number[][];
  labels: number[];
}

/**
 * test/fixtures/labels/npy/values.json. Python's json writes NaN and Infinity as bare words,
 * which JSON.parse rejects: the file holds only numbers, so quote those words and read them
 * back with Number.
 */
export function numpyValues(): NumpyValues {
  const file = join(__dirname, '..', 'fixtures', 'labels', 'npy', 'values.json');
  const text = readFileSync(file, 'utf8').replace(/-?Infinity|NaN/g, (w) => `"${w}"`);
  const v = JSON.parse(text) as { N: number; K: number; soft: (number | string)[][]; labels: number[] };
  return { ...v, soft: v.soft.map((row) => row.map(Number)) };
}

/** Reads every chunk, checking each is rows × K and that they arrive in order. */
export async function readAll(src: LabelSource): Promise<{ rows: number[][]; lines: number[]; chunks: LabelChunk[] }> {
  const rows: number[][] = [];
  const lines: number[] = [];
  const chunks: LabelChunk[] = [];
  for await (const c of src.chunks()) {
    assert.equal(c.K, src.info.K);
    assert.equal(c.data.length, c.rows * c.K);
    assert.equal(c.firstRow, rows.length, 'chunks arrive in order');
    for (let r = 0; r < c.rows; r++) rows.push(Array.from(c.data.subarray(r * c.K, (r + 1) * c.K)));
    lines.push(...(c.lines ?? []));
    chunks.push(c);
  }
  return { rows, lines, chunks };
}

/** Every cell equal to the expected one after `round` (NaN equal to NaN), else the first that is not. */
export function sameValues(actual: number[][], expected: number[][], round: (x: number) => number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: row count`);
  expected.forEach((row, r) => {
    assert.equal(actual[r].length, row.length, `${what}: row ${r} length`);
    row.forEach((x, k) => assert.ok(Object.is(actual[r][k], round(x)), `${what}: row ${r} column ${k}: got ${actual[r][k]}, expected ${round(x)}`));
  });
}
