import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LabelFileError, ReadCancelled, openLabels } from '../../src/core/labels';
import { halfToNumber } from '../../src/core/labels/npyDecode';
import { rng } from '../reference/vectors';
import { numpyValues, readAll, sameValues } from './labelHelpers';

const DIR = join(__dirname, '..', 'fixtures', 'labels', 'npy');
const values = numpyValues();
const soft = values.soft;

/** float64 → nearest binary16, as numpy's astype('<f2') rounds (round half to even). */
function toHalf(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f32 = new Float32Array([x]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const a = Math.abs(x);
  if (a < 2 ** -24 * 0.5) return sign ? -0 : 0;
  if (a >= 65520) return sign ? -Infinity : Infinity;
  // Scale into the half grid for this magnitude and round half to even.
  const e = Math.max(-14, Math.floor(Math.log2(a)));
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  let rounded = Math.round(q);
  if (Math.abs(q - Math.floor(q) - 0.5) < 1e-12 && Math.floor(q) % 2 === 0) rounded = Math.floor(q);
  const v = rounded * ulp;
  return sign ? -v : v;
}

describe('.npy reader (fixtures written by numpy)', () => {
  const variants: [string, (x: number) => number, RegExp][] = [
    ['soft_f64.npy', (x) => x, /<f8 \(f64 little-endian\), C order, shape \(40, 5\), \.npy 1\.0/],
    ['soft_v1.npy', (x) => x, /\.npy 1\.0/],
    ['soft_v2.npy', (x) => x, /\.npy 2\.0/],
    ['soft_v3.npy', (x) => x, /\.npy 3\.0/],
    ['soft_f64_be.npy', (x) => x, /big-endian/],
    ['soft_f32.npy', Math.fround, /<f4/],
    ['soft_f32_be.npy', Math.fround, />f4/],
    ['soft_f16.npy', toHalf, /<f2/],
    ['soft_fortran.npy', (x) => x, /Fortran order/],
    ['soft_fortran_be_f32.npy', Math.fround, /big-endian\), Fortran order/],
    ['soft.npz', (x) => x, /array 'soft' \(stored\)/],
    ['soft_compressed.npz', Math.fround, /array 'soft' \(deflated\)/],
    ['soft_zip64.npz', (x) => x, /array 'soft' \(deflated\)/],
    ['single.npz', (x) => x, /array 'arr_0'/],
  ];
  for (const [file, round, description] of variants) {
    it(`${file}: every value as numpy wrote it`, async () => {
      const src = await openLabels(join(DIR, file));
      assert.equal(src.info.K, 5);
      assert.equal(src.info.rows, 40);
      assert.match(src.info.description, description);
      sameValues((await readAll(src)).rows, soft, round, file);
    });
  }
  it('half floats decode exactly, specials included', () => {
    assert.equal(halfToNumber(0x3c00), 1);
    assert.equal(halfToNumber(0xc000), -2);
    assert.equal(halfToNumber(0x0001), 2 ** -24);
    assert.equal(halfToNumber(0x7bff), 65504);
    assert.equal(halfToNumber(0x7c00), Infinity);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  });
  for (const file of ['labels_int64.npy', 'labels_uint8.npy', 'labels_int16_be.npy']) {
    it(`${file}: integer labels become one-hot rows, K from the data`, async () => {
      const src = await openLabels(join(DIR, file));
      assert.equal(src.info.K, 7);
      const { rows } = await readAll(src);
      assert.deepEqual(rows.map((r) => r.indexOf(1)), values.labels);
      assert.ok(rows.every((r) => r.reduce((a, b) => a + b, 0) === 1));
    });
  }
  it('--classes sets K for integer labels, and a label outside it is an error with its row', async () => {
    const wide = await openLabels(join(DIR, 'labels_int64.npy'), { classes: 10 });
    assert.equal(wide.info.K, 10);
    const narrow = await openLabels(join(DIR, 'labels_int64.npy'), { classes: 3 });
    const bad = values.labels.findIndex((l) => l >= 3);
    await assert.rejects(readAll(narrow), new RegExp(`row ${bad + 1}: class label \\d is outside \\[0, 2\\]`));
  });
  it('.npz picks the array by name, and names the arrays it has when asked for another', async () => {
    // 'ids' is 1-D integers 0…39: read as class labels, one-hot over 40 classes.
    const ids = await openLabels(join(DIR, 'soft.npz'), { array: 'ids' });
    assert.equal(ids.info.K, 40);
    assert.match(ids.info.description, /array 'ids' \(stored\): 40 integer class labels/);
    await assert.rejects(openLabels(join(DIR, 'soft.npz'), { array: 'nope' }), /no array 'nope' \(arrays: ids, soft\)/);
  });
  it('streams in chunks of the size asked for, and reports progress', async () => {
    const seen: number[] = [];
    const src = await openLabels(join(DIR, 'soft_fortran.npy'), { chunkRows: 7, onProgress: (d, t) => seen.push(d / t) });
    const { rows, chunks } = await readAll(src);
    assert.equal(chunks.length, 6);
    sameValues(rows, soft, (x) => x, 'chunked');
    assert.equal(seen.length, 6);
    assert.equal(seen[seen.length - 1], 1);
  });
  it('stops with ReadCancelled when the signal aborts', async () => {
    const ac = new AbortController();
    const src = await openLabels(join(DIR, 'soft_compressed.npz'), { chunkRows: 5, signal: ac.signal });
    let n = 0;
    await assert.rejects(
      (async () => {
        for await (const c of src.chunks()) {
          n += c.rows;
          ac.abort();
        }
      })(),
      ReadCancelled,
    );
    assert.equal(n, 5);
  });
});

describe('.npy/.npz errors name the file and the byte', () => {
  const cases: [string, RegExp][] = [
    ['bad_magic.npy', /bad_magic\.npy \(byte 5\): not a \.npy file/],
    ['truncated.npy', /truncated\.npy \(byte 1691\): the header says shape \(40, 5\) of <f8, which is 1600 bytes of data, but the data is truncated \(1563 bytes\)/],
    ['lying_shape.npy', /lying_shape\.npy \(byte 1728\): the header says shape \(41, 5\)/],
    ['complex.npy', /unsupported dtype '<c8'/],
    ['three_d.npy', /shape \(4, 10, 5\): soft labels are 2-D/],
    ['one_d_float.npy', /1-D <f8 array of 5 values/],
  ];
  for (const [file, message] of cases) {
    it(file, async () => {
      await assert.rejects(
        (async () => readAll(await openLabels(join(DIR, file))))(),
        (e: unknown) => e instanceof LabelFileError && message.test(e.message),
      );
    });
  }
  it('a missing file, and an unknown extension', async () => {
    await assert.rejects(openLabels(join(DIR, 'nope.npy')), /nope\.npy: no such file/);
    await assert.rejects(openLabels(join(DIR, 'make_npy_fixtures.py')), /unknown file type '\.py'/);
  });
});

describe('fuzz: mutated .npy and .npz files never crash or hang the reader', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'loss-lens-fuzz-'));
  const seeds = readdirSync(DIR).filter((f) => /^(soft|labels|single).*\.np[yz]$/.test(f));
  it(`${seeds.length} fixtures × 40 mutations: chunks of rows × K, or a LabelFileError`, async () => {
    const r = rng(404);
    let errors = 0;
    let reads = 0;
    for (const seed of seeds) {
      const good = readFileSync(join(DIR, seed));
      for (let m = 0; m < 40; m++) {
        const bytes = Buffer.from(good);
        const kind = Math.floor(r() * 4);
        let mutated: Buffer;
        if (kind === 0) {
          for (let i = 0; i < 1 + Math.floor(r() * 8); i++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
          mutated = bytes;
        } else if (kind === 1) mutated = bytes.subarray(0, Math.floor(r() * bytes.length));
        else if (kind === 2) {
          const at = Math.floor(r() * bytes.length);
          mutated = Buffer.concat([bytes.subarray(0, at), randomBytes(1 + Math.floor(r() * 16)), bytes.subarray(at)]);
        } else {
          // Header-targeted: change a digit of the shape or the dtype size.
          const text = bytes.toString('latin1');
          mutated = Buffer.from(text.replace(/\d/, String(Math.floor(r() * 10))), 'latin1');
        }
        const file = join(tmp, `${m}-${seed}`);
        writeFileSync(file, mutated);
        const attempt = (async () => {
          const src = await openLabels(file);
          for await (const c of src.chunks()) assert.equal(c.data.length, c.rows * c.K);
        })();
        const outcome = await Promise.race([
          attempt.then(() => 'ok', (e: unknown) => e),
          new Promise((res) => setTimeout(() => res('hang'), 5000)),
        ]);
        assert.notEqual(outcome, 'hang', `${seed} mutation ${m} hung`);
        if (outcome !== 'ok') {
          assert.ok(outcome instanceof LabelFileError, `${seed} mutation ${m} (kind ${kind}): ${String(outcome)}`);
          errors++;
        }
        reads++;
      }
    }
    assert.ok(errors > reads / 4, `only ${errors} of ${reads} mutated files were rejected`);
  });
});
