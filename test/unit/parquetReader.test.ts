/**
 * The .parquet reader (parquet.ts) on fixtures written by parquet-wasm, the Rust `parquet`
 * crate compiled to WebAssembly, which shares no code with hyparquet, the reader's decoder
 * (test/fixtures/labels/parquet/make_parquet_fixtures.ts). The expected values are numpy's,
 * from ../npy/values.json, never the reader's own.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as zlib from 'node:zlib';
import { after, describe, it } from 'node:test';
import { openLabels } from '../../src/core/labels/open';
import { openParquet } from '../../src/core/labels/parquet';
import { LabelFileError, ReadCancelled, type ReadOptions } from '../../src/core/labels/types';
import { numpyValues, readAll, sameValues } from './labelHelpers';

const ROOT = join(__dirname, '..', '..');
const DIR = join(__dirname, '..', 'fixtures', 'labels', 'parquet');
const fix = (name: string): string => join(DIR, name);
const TMP = mkdtempSync(join(tmpdir(), 'loss-lens-parquet-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const SOFT = numpyValues().soft;
const exact = (x: number): number => x;

const read = async (name: string, opts?: ReadOptions): Promise<Awaited<ReturnType<typeof readAll>>> => readAll(await openParquet(fix(name), opts));

async function assertFails(file: string, pattern: RegExp, opts?: ReadOptions): Promise<LabelFileError> {
  let error: LabelFileError | undefined;
  await assert.rejects(
    (async () => readAll(await openParquet(file, opts)))(),
    (e: unknown) => {
      assert.ok(e instanceof LabelFileError, `expected a LabelFileError, got ${String(e)}`);
      assert.match(e.message, pattern);
      error = e;
      return true;
    },
  );
  return error!;
}

const hasZstd = typeof (zlib as Record<string, unknown>).zstdDecompressSync === 'function';

describe('openParquet: every value as parquet-wasm wrote it', () => {
  const cases: [string, (x: number) => number, string][] = [
    ['soft_list.parquet', exact, 'list column "probs" (DOUBLE), 1 row group; by name, among shape, probs'],
    ['soft_rowgroups.parquet', exact, 'list column "dist" (DOUBLE), 6 row groups; the only list of numbers'],
    ['soft_columns.parquet', exact, 'columns p0…p4 (DOUBLE), 3 row groups; index id skipped'],
    ['soft_f32.parquet', Math.fround, 'columns p0…p4 (FLOAT), 1 row group; index id skipped'],
    ['soft_brotli.parquet', exact, 'list column "probs" (DOUBLE), 1 row group; the only list of numbers'],
    ...(hasZstd ? [['soft_zstd.parquet', exact, 'list column "probs" (DOUBLE), 1 row group; the only list of numbers'] as [string, (x: number) => number, string]] : []),
  ];
  for (const [name, round, description] of cases) {
    it(name, async () => {
      const src = await openParquet(fix(name));
      assert.deepEqual(src.info, { format: 'parquet', K: 5, rows: 40, description });
      sameValues((await readAll(src)).rows, SOFT, round, name);
    });
  }

  it('NaN and Infinity are values, a null cell or list entry is NaN', async () => {
    assert.ok(Number.isNaN(SOFT[17][2]) && SOFT[19][0] === Infinity);
    const withNull = (r: number, k: number): number[][] => SOFT.map((row, i) => row.map((x, j) => (i === r && j === k ? NaN : x)));
    sameValues((await read('null_cell.parquet')).rows, withNull(3, 2), exact, 'null_cell');
    sameValues((await read('null_item.parquet')).rows, withNull(5, 1), exact, 'null_item');
  });

  it(`zstd: ${hasZstd ? 'read with node:zlib' : 'this Node has no zstd, which the error says'}`, async () => {
    if (hasZstd) return sameValues((await read('soft_zstd.parquet')).rows, SOFT, exact, 'zstd');
    await assertFails(fix('soft_zstd.parquet'), /column "probs" is compressed with ZSTD, which this reader cannot decompress \(it reads UNCOMPRESSED, SNAPPY, GZIP, BROTLI\)/);
  });

  it('openLabels dispatches .parquet', async () => {
    const src = await openLabels(fix('soft_list.parquet'));
    assert.equal(src.info.format, 'parquet');
  });
});

describe('layouts and column selection', () => {
  const cols = (ks: number[]): number[][] => SOFT.map((row) => ks.map((k) => row[k]));
  it('selects numeric columns by name, 1-based index, index range and name range', async () => {
    const cases: [string, number[], string][] = [
      ['p0,p1,p2', [0, 1, 2], 'columns p0, p1, p2 (DOUBLE), 3 row groups'],
      ['3-5', [0, 1, 2], 'columns p0, p1, p2 (DOUBLE), 3 row groups'],
      ['p1-p4', [1, 2, 3, 4], 'columns p1…p4 (DOUBLE), 3 row groups'],
      ['p4, p0', [4, 0], 'columns p4, p0 (DOUBLE), 3 row groups'],
    ];
    for (const [columns, ks, description] of cases) {
      const src = await openParquet(fix('soft_columns.parquet'), { columns });
      assert.deepEqual([src.info.K, src.info.description], [ks.length, description], columns);
      sameValues((await readAll(src)).rows, cols(ks), exact, columns);
    }
    const withId = await read('soft_columns.parquet', { columns: '1,3-7' });
    sameValues(withId.rows, SOFT.map((row, i) => [i, ...row]), exact, 'id (INT64) and p0…p4');
  });

  it('half floats equal numpy\'s, integer columns are read as numbers', async () => {
    const numpy = (await readAll(await openLabels(join(DIR, '..', 'npy', 'soft_f16.npy')))).rows;
    const halves = await openParquet(fix('soft_types.parquet'), { columns: 'h0-h4' });
    assert.equal(halves.info.description, 'columns h0…h4 (FLOAT16), 1 row group');
    sameValues((await readAll(halves)).rows, numpy, exact, 'FLOAT16');
    const all = await openParquet(fix('soft_types.parquet'));
    assert.deepEqual([all.info.K, all.info.description], [10, 'columns h0…c4 (FLOAT16, INT32), 1 row group; index id skipped']);
    const perMille = SOFT.map((row) => row.map((x) => (Number.isFinite(x) ? Math.round(x * 1000) : 0)));
    sameValues((await readAll(all)).rows, numpy.map((row, i) => [...row, ...perMille[i]]), exact, 'FLOAT16 and INT32');
  });

  it('picks a list column by the columns or the field option', async () => {
    for (const opts of [{ columns: 'probs' }, { field: 'probs' }, { columns: '3' }]) {
      const src = await openParquet(fix('soft_list.parquet'), opts);
      assert.equal(src.info.description, 'list column "probs" (DOUBLE), 1 row group');
      sameValues((await readAll(src)).rows, SOFT, exact, JSON.stringify(opts));
    }
  });

  it('names a column that cannot be read, and what exists', async () => {
    const columns = fix('soft_columns.parquet');
    await assertFails(columns, /soft_columns\.parquet: column "label" is BYTE_ARRAY \(STRING\), not numbers$/, { columns: 'p0,label' });
    await assertFails(columns, /no column 'q': the columns are id, label, p0, p1, p2, p3, p4$/, { columns: 'p0,q' });
    await assertFails(columns, /column 9 is out of range: the file has 7 columns \(1–7\)$/, { columns: '3-9' });
    await assertFails(columns, /only column "p0" is selected: soft labels need a list column or at least 2 numeric columns$/, { columns: 'p0' });
    await assertFails(fix('soft_list.parquet'), /column "probs" is a list: select it alone, or select numeric columns$/, { columns: 'probs,id' });
    await assertFails(fix('soft_list.parquet'), /row 1: list column "shape" has 1 entry: soft labels need at least 2 classes$/, { columns: 'shape' });
  });
});

describe('chunks, cancellation and progress', () => {
  it('row groups of 7 rows give chunks in order, none larger than chunkRows', async () => {
    const cases: [string, number, number[]][] = [
      ['soft_rowgroups.parquet', 100, [7, 7, 7, 7, 7, 5]],
      ['soft_rowgroups.parquet', 3, [3, 3, 1, 3, 3, 1, 3, 3, 1, 3, 3, 1, 3, 3, 1, 3, 2]],
      ['soft_columns.parquet', 5, [5, 5, 5, 1, 5, 5, 5, 1, 5, 3]],
      ['soft_list.parquet', 16, [16, 16, 8]],
    ];
    for (const [name, chunkRows, sizes] of cases) {
      const { rows, chunks } = await read(name, { chunkRows });
      assert.deepEqual(chunks.map((c) => c.rows), sizes, `${name} by ${chunkRows}`);
      assert.deepEqual(chunks.map((c) => c.firstRow), sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0)));
      sameValues(rows, SOFT, exact, `${name} by ${chunkRows}`);
    }
  });

  it('throws ReadCancelled after an abort, and before reading with an aborted signal', async () => {
    for (const name of ['soft_list.parquet', 'soft_rowgroups.parquet', 'soft_columns.parquet']) {
      const ac = new AbortController();
      const src = await openParquet(fix(name), { chunkRows: 4, signal: ac.signal });
      let seen = 0;
      await assert.rejects(async () => {
        for await (const c of src.chunks()) {
          seen += c.rows;
          ac.abort();
        }
      }, ReadCancelled);
      assert.equal(seen, 4, name);
      await assert.rejects(openParquet(fix(name), { signal: AbortSignal.abort() }), ReadCancelled, name);
    }
  });

  it('reports progress after each chunk, growing to the file size', async () => {
    for (const [name, chunks] of [['soft_rowgroups.parquet', 11], ['soft_columns.parquet', 10], ['soft_list.parquet', 8]] as const) {
      const calls: [number, number][] = [];
      await read(name, { chunkRows: 5, onProgress: (done, total) => calls.push([done, total]) });
      const size = statSync(fix(name)).size;
      assert.equal(calls.length, chunks, name);
      assert.ok(calls.every(([d, t], i) => t === size && d > 0 && d <= t && (i === 0 || d >= calls[i - 1][0])), `${name}: ${JSON.stringify(calls)}`);
      assert.equal(calls[calls.length - 1][0], size, name);
    }
  });
});

describe('broken files are a LabelFileError naming the file and the place', () => {
  it('not parquet, truncated, a corrupt or impossible footer', async () => {
    const magic = await assertFails(fix('bad_magic.parquet'), /bad_magic\.parquet \(byte 0\): not a parquet file: it starts with "PAR0", not "PAR1"$/);
    assert.equal(magic.byteOffset, 0);
    const size = statSync(fix('truncated.parquet')).size;
    const cut = await assertFails(fix('truncated.parquet'), /truncated\.parquet \(byte \d+\): the file does not end with "PAR1": it is truncated, or not a parquet file$/);
    assert.equal(cut.byteOffset, size - 4);
    await assertFails(fix('corrupt_footer.parquet'), /corrupt_footer\.parquet \(byte \d+\): corrupt parquet file: the metadata cannot be decoded: /);
    await assertFails(fix('footer_too_long.parquet'), /\(byte \d+\): corrupt parquet file: the footer says the metadata is 3278 bytes, but 3266 bytes lie between the magic numbers$/);
    const csv = join(TMP, 'soft.parquet');
    writeFileSync(csv, readFileSync(join(DIR, '..', 'soft.csv')));
    await assertFails(csv, /soft\.parquet \(byte 0\): not a parquet file: it starts with "id,l", not "PAR1"$/);
    writeFileSync(csv, 'PAR1');
    await assertFails(csv, /\(byte 0\): not a parquet file: 4 bytes is too short/);
    await assertFails(join(TMP, 'missing.parquet'), /missing\.parquet: cannot read the file \(ENOENT\)$/);
  });

  it('a file of no rows', async () => {
    await assertFails(fix('empty.parquet'), /empty\.parquet: no data rows \(the file has 0 rows\)$/);
  });

  it('a list of another length names its row and column', async () => {
    await assertFails(fix('bad_length.parquet'), /bad_length\.parquet: row 13: list column "probs" has 4 entries, expected 5 as in row 1$/);
  });

  it('a run of 2^29 definition levels (which makes an unchecked decoder abort V8) is caught before decoding', async () => {
    const e = await assertFails(fix('rle_bomb.parquet'), /corrupt parquet file: column p0, the page at byte \d+: definition levels: a run of 536870912 values where 40 are left$/);
    assert.ok(e.byteOffset !== undefined && e.byteOffset >= 4);
  });
});

describe('the built CLI reads .parquet (run npm run build first)', () => {
  it('inspect --json gives the same figures for the list fixture as for numpy\'s .npy', () => {
    const inspect = (file: string): Record<string, unknown> => {
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'inspect', file, '--json'], { encoding: 'utf8' });
      assert.ok(r.stdout.startsWith('{'), `${file}: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    const npy = inspect(join(DIR, '..', 'npy', 'soft_f64.npy'));
    for (const name of ['soft_list.parquet', 'soft_columns.parquet']) {
      const pq = inspect(fix(name));
      for (const key of ['rows', 'classes', 'counts', 'histograms', 'means']) assert.deepEqual(pq[key], npy[key], `${name}: ${key}`);
    }
  });
});

describe('fuzz: mutated fixtures either read cleanly or fail with a LabelFileError', () => {
  const FIXTURES = ['soft_list.parquet', 'soft_columns.parquet', 'soft_f32.parquet', 'soft_rowgroups.parquet', 'soft_types.parquet', 'null_cell.parquet', 'null_item.parquet', 'soft_brotli.parquet', 'rle_bomb.parquet'];
  const PER = 50;
  const CASE_MS = 5000;

  it(`${FIXTURES.length * PER} seeded mutations, each in a child process under a ${CASE_MS / 1000} s watchdog`, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'parquetFuzzChild.ts'), '20261127', String(PER), TMP, ...FIXTURES.map(fix)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const counts = { ok: 0, error: 0 };
    let current = '(starting)';
    let timer: NodeJS.Timeout | undefined;
    const failure = await new Promise<string | undefined>((resolve) => {
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(`no result within ${CASE_MS} ms`);
        }, CASE_MS);
      };
      arm();
      createInterface({ input: child.stdout }).on('line', (line) => {
        // "start I NAME FILE" or "done I ok|error".
        const [what, , word, ...file] = line.split(' ');
        if (what === 'start') current = `${word} (${file.join(' ')})`;
        else if (word === 'ok' || word === 'error') counts[word]++;
        arm();
      });
      // 'close', not 'exit': by then every line of stdout has been read.
      child.on('close', (code) => resolve(code === 0 ? undefined : `exit code ${code}: ${stderr}`));
    });
    clearTimeout(timer);
    if (failure) {
      const file = current.match(/\((.*)\)$/)?.[1];
      const bytes = file ? readFileSync(file).toString('base64') : '';
      assert.fail(`${current}: ${failure}\nbase64: ${bytes}`);
    }
    assert.equal(counts.ok + counts.error, FIXTURES.length * PER, JSON.stringify(counts));
    assert.ok(counts.ok > 0 && counts.error > 0, JSON.stringify(counts));
  });
});
