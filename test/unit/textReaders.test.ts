/**
 * The text soft-label readers (csv.ts, jsonl.ts) on fixtures written by Python's csv and json
 * modules (test/fixtures/labels/make_text_fixtures.py). The expected values come from
 * soft_noheader.csv split by hand here, never from the readers themselves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openCsv } from '../../src/core/labels/csv';
import { openJson } from '../../src/core/labels/jsonStream';
import { openJsonl } from '../../src/core/labels/jsonl';
import { parseJsonValue } from '../../src/core/labels/jsonValue';
import { LabelFileError, ReadCancelled, type LabelSource, type ReadOptions } from '../../src/core/labels/types';
import { readAll } from './labelHelpers';
import { rng } from '../reference/vectors';

const FIX = join(__dirname, '..', 'fixtures', 'labels');
const fix = (name: string): string => join(FIX, name);
const TMP = mkdtempSync(join(tmpdir(), 'loss-lens-text-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

type Opener = (file: string, opts?: ReadOptions) => Promise<LabelSource>;
const OPENERS: Record<string, Opener> = { '.csv': openCsv, '.tsv': openCsv, '.jsonl': openJsonl, '.ndjson': openJsonl, '.json': openJson };
const open = (file: string, opts?: ReadOptions): Promise<LabelSource> => OPENERS[extname(file)](file, opts);

const cell = (s: string): number => ({ nan: NaN, inf: Infinity, '-inf': -Infinity })[s] ?? Number(s);
const REF: number[][] = readFileSync(fix('soft_noheader.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').map(cell));

/** The 1-based numbers of the lines for which `keep` holds. */
function linesWhere(file: string, keep: (line: string, i: number) => boolean): number[] {
  return readFileSync(file, 'utf8').split('\n').flatMap((l, i) => (keep(l.replace(/\r$/, ''), i) ? [i + 1] : []));
}

const readFile = async (file: string, opts?: ReadOptions): Promise<ReturnType<typeof readAll>> => readAll(await open(file, opts));

/** Asserts that opening and reading `file` fails with a LabelFileError whose message matches. */
async function assertFails(file: string, pattern: RegExp, opts?: ReadOptions): Promise<void> {
  await assert.rejects(readFile(file, opts), (e: unknown) => {
    assert.ok(e instanceof LabelFileError, `expected a LabelFileError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('the reference values', () => {
  it('are 12 rows of 5 with NaN, Infinity and -Infinity at the places the script puts them', () => {
    assert.equal(REF.length, 12);
    assert.ok(REF.every((r) => r.length === 5));
    assert.ok(Number.isNaN(REF[2][1]));
    assert.equal(REF[6][4], Infinity);
    assert.equal(REF[9][0], -Infinity);
  });
});

describe('openCsv', () => {
  it('reads a header file (CRLF), skipping the string label column and the index column', async () => {
    const src = await openCsv(fix('soft.csv'));
    assert.deepEqual(src.info, { format: 'csv', K: 5, description: "comma-separated, header, columns p0…p4 (index column 1 ('id') skipped)" });
    const { rows, lines } = await readAll(src);
    assert.deepEqual(rows, REF);
    assert.deepEqual(lines, linesWhere(fix('soft.csv'), (l, i) => i > 0 && l !== ''));
  });

  it('reads a file without a header, .tsv, and a BOM + semicolon + decimal-comma file with blank lines', async () => {
    const plain = await openCsv(fix('soft_noheader.csv'));
    assert.equal(plain.info.description, 'comma-separated, no header, columns 1…5');
    assert.deepEqual((await readAll(plain)).lines, linesWhere(fix('soft_noheader.csv'), (l) => l !== ''));
    const tsv = await openCsv(fix('soft.tsv'));
    assert.equal(tsv.info.format, 'tsv');
    assert.deepEqual((await readAll(tsv)).rows, REF);
    const excel = await readFile(fix('excel.csv'));
    assert.deepEqual(excel.rows, REF);
    assert.deepEqual(excel.lines, linesWhere(fix('excel.csv'), (l, i) => i > 0 && l !== ''));
  });

  it('selects columns by name, index, index range and name range', async () => {
    const cases: [string, string, number[][]][] = [
      ['soft.csv', 'p0,p1,p2', REF.map((r) => r.slice(0, 3))],
      ['soft.csv', '3-5', REF.map((r) => r.slice(0, 3))],
      ['soft.csv', 'p1-p3', REF.map((r) => r.slice(1, 4))],
      ['soft.csv', '1,3,5-7', REF.map((r, i) => [i, r[0], r[2], r[3], r[4]])],
      ['soft.csv', 'p4, p0', REF.map((r) => [r[4], r[0]])],
      ['soft_noheader.csv', '2-4', REF.map((r) => r.slice(1, 4))],
    ];
    for (const [file, columns, expected] of cases) {
      const src = await openCsv(fix(file), { columns });
      assert.equal(src.info.K, expected[0].length, columns);
      assert.deepEqual((await readAll(src)).rows, expected, columns);
    }
    assert.equal((await openCsv(fix('soft.csv'), { columns: '1,3,5-7' })).info.description, 'comma-separated, header, columns id, p0, p2, p3, p4');
  });

  it('names an unknown column or an index out of range, and lists what exists', async () => {
    await assertFails(fix('soft.csv'), /no column 'q': the columns are id, label, p0, p1, p2, p3, p4$/, { columns: 'p0,q' });
    await assertFails(fix('soft.csv'), /column 9 is out of range: the file has 7 columns \(1–7\)/, { columns: '2-9' });
    await assertFails(fix('soft_noheader.csv'), /no column 'p0': the file has no header row; select columns by 1-based index \(1–5\)/, { columns: 'p0' });
  });

  it('reports a bad cell and a ragged row with line and column', async () => {
    await assertFails(fix('bad_cell.csv'), /bad_cell\.csv:6:4: cell 'abc' in column 4 \('p2'\) is not a number$/);
    await assertFails(fix('ragged.csv'), /ragged\.csv:5:5: row has 4 cells, expected 5 as in the header$/);
    const noHeader = join(TMP, 'bad_noheader.csv');
    writeFileSync(noHeader, '0.5,0.5\n0.25,0.75\n0.1,x\n');
    await assertFails(noHeader, /bad_noheader\.csv:3:2: cell 'x' in column 2 is not a number$/);
    writeFileSync(noHeader, '0.5,0.5\n0.25,,0.75\n');
    await assertFails(noHeader, /:2:3: row has 3 cells, expected 2 as in line 1$/);
  });

  it('refuses empty, header-only, single-column and missing files', async () => {
    await assertFails(fix('empty.csv'), /empty\.csv: no data rows \(the file is empty\)$/);
    await assertFails(fix('header_only.csv'), /header_only\.csv:1: no data rows \(only a header\)$/);
    const one = join(TMP, 'one.csv');
    writeFileSync(one, 'name,p\ncat,1\ndog,0.5\n');
    await assertFails(one, /one\.csv:2: only 1 numeric column in the first data row; soft labels need at least 2/);
    await assertFails(join(TMP, 'missing.csv'), /missing\.csv: cannot read the file \(ENOENT\)$/);
  });
});

describe('openJsonl', () => {
  it('finds "probs" by name among two arrays of numbers, and keeps strings with escapes and the text NaN', async () => {
    const src = await openJsonl(fix('soft.jsonl'));
    assert.deepEqual(src.info, { format: 'jsonl', K: 5, description: 'JSON Lines, objects, field "probs" (by name, among shape, probs)' });
    const { rows, lines } = await readAll(src);
    assert.deepEqual(rows, REF);
    assert.deepEqual(lines, Array.from({ length: 12 }, (_, i) => i + 1));
    const first = readFileSync(fix('soft.jsonl'), 'utf8').split('\n')[0];
    const rec = parseJsonValue(first, 'soft.jsonl', { line: 1, column: 1 }) as Record<string, unknown>;
    assert.equal(rec.note, 'NaN "quoted" \\ back\nslash \u00e9 [1, 2]');
  });

  it('reads arrays, the only array-of-numbers field (CRLF, a blank line), and a dotted field path', async () => {
    assert.deepEqual((await readFile(fix('arrays.jsonl'))).rows, REF);
    const only = await openJsonl(fix('only_field.ndjson'));
    assert.equal(only.info.description, 'JSON Lines, objects, field "dist" (the only array of numbers)');
    const { rows, lines } = await readAll(only);
    assert.deepEqual(rows, REF);
    assert.deepEqual(lines, [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.deepEqual((await readFile(fix('nested.jsonl'), { field: 'out.soft' })).rows, REF);
    await assertFails(fix('nested.jsonl'), /nested\.jsonl:1: no field holds an array of numbers \(fields: id, out\); name the field with the field option$/);
  });

  it("parses Python's NaN, Infinity and -Infinity and refuses what JSON does not allow", () => {
    const parse = (s: string): unknown => parseJsonValue(s, 'x.jsonl', { line: 7, column: 1 }, 'the end of the line');
    assert.deepEqual(parse('[NaN, Infinity, -Infinity, -1.5e3, 0, "NaN", {"a": null}]'), [NaN, Infinity, -Infinity, -1500, 0, 'NaN', { __proto__: null, a: null }]);
    const bad: [string, RegExp][] = [
      ['[nan]', /x\.jsonl:7:2: invalid JSON: unexpected "n"$/],
      ['[01]', /x\.jsonl:7:3: invalid JSON: expected ',' or '\]', found "1"$/],
      ['[1,]', /x\.jsonl:7:4: invalid JSON: unexpected "\]"$/],
      ['"a\\x"', /x\.jsonl:7:3: invalid JSON: invalid escape "\\\\x" in a string$/],
      ['{"a": [1, 2', /x\.jsonl:7:12: invalid JSON: expected ',' or '\]', found the end of the line$/],
      ['[1] 2', /x\.jsonl:7:5: invalid JSON: unexpected "2" after the value$/],
      ['['.repeat(100_000), /nested deeper than 256 levels/],
    ];
    for (const [text, pattern] of bad) assert.throws(() => parse(text), (e: unknown) => e instanceof LabelFileError && pattern.test(e.message), text.slice(0, 20));
  });

  it('reports each bad record with its line', async () => {
    await assertFails(fix('bad_entry.jsonl'), /bad_entry\.jsonl:5: entry 3 of "probs" is "abc", not a number$/);
    await assertFails(fix('bad_length.jsonl'), /bad_length\.jsonl:4: "probs" has 4 entries, expected 5 as in line 1$/);
    await assertFails(fix('missing_field.jsonl'), /missing_field\.jsonl:3: the record has no field "probs" \(its fields: id, prob\)$/);
    await assertFails(fix('invalid.jsonl'), /invalid\.jsonl:6:41: invalid JSON: expected a value, found the end of the line$/);
    await assertFails(fix('soft.jsonl'), /soft\.jsonl:1: "label" is a string, not an array of numbers$/, { field: 'label' });
  });
});

describe('openJson (streamed)', () => {
  it('reads a pretty-printed array of objects, with the line where each record starts', async () => {
    const src = await openJson(fix('soft.json'));
    assert.deepEqual(src.info, { format: 'json', K: 5, description: 'JSON array, objects, field "probs" (the only array of numbers)' });
    const { rows, lines } = await readAll(src);
    assert.deepEqual(rows, REF);
    assert.deepEqual(lines, linesWhere(fix('soft.json'), (l) => l === '  {'));
  });

  it('finds the records in a wrapper object past metadata and a top-level array of numbers', async () => {
    for (const field of [undefined, 'data']) {
      const src = await openJson(fix('wrapped.json'), { field });
      assert.equal(src.info.description, 'JSON field "data", arrays of 5 numbers');
      const { rows, lines } = await readAll(src);
      assert.deepEqual(rows, REF);
      assert.deepEqual(lines, Array.from({ length: 12 }, (_, i) => i + 2));
    }
  });

  it('reports truncation, a bad record, trailing text and a document without records', async () => {
    const cut = linesWhere(fix('truncated.json'), (l) => l === '  {').at(-1);
    await assertFails(fix('truncated.json'), new RegExp(`truncated\\.json:${cut}:3: invalid JSON: unexpected end of the file inside the value that starts here$`));
    await assertFails(fix('bad_record.json'), /bad_record\.json:4: the record is a string, but the first record \(line 2\) is an array$/);
    const cases: [string, RegExp][] = [
      ['[[0.5, 0.5]]\n x', /:2:2: invalid JSON: unexpected "x" after the end of the document$/],
      ['{"a": 1, "b": [1, 2]}', /:1:21: no array of records in the top-level object \(its fields: a, b\)$/],
      ['{"a": 1, "rows": [[0.5, 0.5]], "z": tru}', /:1:37: invalid JSON: unexpected "t"$/],
      ['[[0.5, 0.5] [0.5, 0.5]]', /:1:13: invalid JSON: expected ',' or '\]' after record 1, found "\["$/],
      ['[]', /no data rows \(the array of records is empty\)$/],
      ['', /no data rows \(the file is empty\)$/],
    ];
    for (const [text, pattern] of cases) {
      const file = join(TMP, 'case.json');
      writeFileSync(file, text);
      await assertFails(file, pattern);
    }
  });
});

/** Every good fixture, as [file, options]. */
const GOOD: [string, ReadOptions][] = [
  ['soft.csv', {}], ['soft_noheader.csv', {}], ['soft.tsv', {}], ['excel.csv', {}], ['soft.jsonl', {}], ['arrays.jsonl', {}],
  ['only_field.ndjson', {}], ['nested.jsonl', { field: 'out.soft' }], ['soft.json', {}], ['wrapped.json', {}],
];

describe('chunks, cancellation and progress', () => {
  it('splits 12 rows into chunks of 3 and of 5 with the right firstRow, lines and values', async () => {
    for (const [name, opts] of GOOD) {
      const whole = await readFile(fix(name), opts);
      for (const [chunkRows, sizes] of [[3, [3, 3, 3, 3]], [5, [5, 5, 2]]] as const) {
        const { rows, lines, chunks } = await readFile(fix(name), { ...opts, chunkRows });
        assert.deepEqual(chunks.map((c) => c.rows), sizes, name);
        assert.deepEqual(chunks.map((c) => c.firstRow), sizes.map((_, i) => i * chunkRows), name);
        assert.deepEqual(rows, REF, name);
        assert.deepEqual(lines, whole.lines, name);
      }
    }
  });

  it('throws ReadCancelled after an abort, and before reading with an aborted signal', async () => {
    for (const [name, opts] of GOOD) {
      const ac = new AbortController();
      const src = await open(fix(name), { ...opts, chunkRows: 3, signal: ac.signal });
      let seen = 0;
      await assert.rejects(async () => {
        for await (const c of src.chunks()) {
          seen += c.rows;
          ac.abort();
        }
      }, ReadCancelled);
      assert.equal(seen, 3, name);
      await assert.rejects(open(fix(name), { ...opts, signal: AbortSignal.abort() }), ReadCancelled, name);
    }
  });

  it('reports progress after each chunk, ending at the file size', async () => {
    for (const [name, opts] of GOOD) {
      const calls: [number, number][] = [];
      await readFile(fix(name), { ...opts, chunkRows: 3, onProgress: (done, total) => calls.push([done, total]) });
      const size = statSync(fix(name)).size;
      assert.equal(calls.length, 4, name);
      assert.ok(calls.every(([d, t], i) => t === size && d <= t && (i === 0 || d >= calls[i - 1][0])), name);
      assert.equal(calls[3][0], size, name);
    }
  });
});

describe('large files stream in bounded chunks', () => {
  const N = 200_000;
  const K = 10;
  const value = (i: number, k: number): number => ((i * 31 + k * 7) % 1000) / 1000;
  const row = (i: number): number[] => Array.from({ length: K }, (_, k) => value(i, k));

  async function check(file: string, firstLine: (i: number) => number, n: number): Promise<void> {
    const progress: number[] = [];
    const src = await open(file, { chunkRows: 10_000, onProgress: (d) => progress.push(d) });
    assert.equal(src.info.K, K);
    let rows = 0;
    for await (const c of src.chunks()) {
      assert.equal(c.firstRow, rows);
      assert.equal(c.rows, Math.min(10_000, n - rows));
      for (let r = 0; r < c.rows; r += 997) {
        assert.deepEqual(Array.from(c.data.subarray(r * K, (r + 1) * K)), row(rows + r));
        assert.equal(c.lines?.[r], firstLine(rows + r));
      }
      rows += c.rows;
    }
    assert.equal(rows, n);
    // The first chunk arrived before the whole file was read.
    assert.ok(progress[0] < statSync(file).size / 2, `first progress ${progress[0]}`);
  }

  it(`reads ${N} CSV rows in chunks of 10 000`, async () => {
    const file = join(TMP, 'large.csv');
    const header = Array.from({ length: K }, (_, k) => `p${k}`).join(',');
    writeFileSync(file, [header, ...Array.from({ length: N }, (_, i) => row(i).join(','))].join('\n') + '\n');
    await check(file, (i) => i + 2, N);
  });

  it('reads 50 000 records of JSON Lines and of a wrapped, indented JSON document', async () => {
    const n = 50_000;
    const jsonl = join(TMP, 'large.jsonl');
    writeFileSync(jsonl, Array.from({ length: n }, (_, i) => JSON.stringify({ id: i, probs: row(i) })).join('\n'));
    await check(jsonl, (i) => i + 1, n);
    const json = join(TMP, 'large.json');
    writeFileSync(json, JSON.stringify({ meta: { n }, data: Array.from({ length: n }, (_, i) => ({ id: i, probs: row(i) })) }, null, 1));
    // JSON.stringify with indent 1 puts each record over K + 5 lines, the first on line 6.
    await check(json, (i) => 6 + i * (K + 5), n);
  });
});

describe('fuzz: mutated fixtures either read cleanly or fail with a LabelFileError', () => {
  const POOL = Buffer.from(',;\t\n\r"[]{}:.-+eE0123456789 aNI\\');

  function mutate(bytes: Buffer, r: () => number): Buffer {
    let b = Buffer.from(bytes);
    const pick = (n: number): number => Math.floor(r() * n);
    const byte = (): number => (r() < 0.7 ? POOL[pick(POOL.length)] : pick(256));
    for (let m = 1 + pick(3); m > 0 && b.length > 0; m--) {
      const at = pick(b.length);
      const op = pick(5);
      if (op === 0) b[at] = byte();
      else if (op === 1) b = Buffer.concat([b.subarray(0, at), Buffer.from([byte()]), b.subarray(at)]);
      else if (op === 2) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(8))]);
      else if (op === 3) b = b.subarray(0, at);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(pick(b.length))]);
    }
    return b;
  }

  async function consume(file: string): Promise<'ok' | 'error'> {
    try {
      const src = await open(file, { chunkRows: 4 });
      for await (const c of src.chunks()) {
        assert.equal(c.K, src.info.K);
        assert.equal(c.data.length, c.rows * c.K);
        assert.equal(c.lines?.length, c.rows);
        assert.ok(c.rows > 0);
      }
      return 'ok';
    } catch (e) {
      if (e instanceof LabelFileError) return 'error';
      throw e;
    }
  }

  async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('350 seeded mutations of 7 fixtures', async () => {
    const r = rng(20240611);
    const counts = { ok: 0, error: 0 };
    for (const name of ['soft.csv', 'soft.tsv', 'excel.csv', 'soft.jsonl', 'arrays.jsonl', 'soft.json', 'wrapped.json']) {
      const bytes = readFileSync(fix(name));
      for (let i = 0; i < 50; i++) {
        const file = join(TMP, `fuzz-${i}${extname(name)}`);
        const mutated = mutate(bytes, r);
        writeFileSync(file, mutated);
        const what = `${name} mutation ${i} (base64 ${mutated.toString('base64').slice(0, 2000)})`;
        const outcome = await withTimeout(consume(file), 2000, what).catch((e: unknown) => assert.fail(`${what}: ${String(e)}`));
        counts[outcome]++;
      }
    }
    assert.ok(counts.ok > 0 && counts.error > 0, JSON.stringify(counts));
  });
});
