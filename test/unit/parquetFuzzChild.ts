/**
 * The fuzz cases of parquetReader.test.ts, run in a child process: a decoder caught in a loop
 * blocks its own thread, timers included, and one that exhausts V8 kills its process, so only
 * a watchdog outside can time a case out. Usage: parquetFuzzChild.ts SEED PER_FIXTURE TMPDIR
 * FIXTURE…; prints "start I NAME FILE" before each case and "done I ok|error" after it. Any
 * error other than a LabelFileError, or a malformed chunk, ends it with exit code 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openParquet } from '../../src/core/labels/parquet';
import { LabelFileError } from '../../src/core/labels/types';
import { rng } from '../reference/vectors';

/** Byte values that make lengths, counts and types extreme. */
const EXTREME = [0x00, 0x01, 0x7f, 0x80, 0xff];

/** 1 to 3 of: a byte set, a bit flipped, a byte inserted, bytes deleted, a cut, a splice, a u32 made extreme. */
function mutate(bytes: Buffer, r: () => number): Buffer {
  let b = Buffer.from(bytes);
  const pick = (n: number): number => Math.floor(r() * n);
  const byte = (): number => (r() < 0.5 ? EXTREME[pick(EXTREME.length)] : pick(256));
  for (let m = 1 + pick(3); m > 0 && b.length > 0; m--) {
    const at = pick(b.length);
    const op = pick(7);
    if (op === 0) b[at] = byte();
    else if (op === 1) b[at] ^= 1 << pick(8);
    else if (op === 2) b = Buffer.concat([b.subarray(0, at), Buffer.from([byte()]), b.subarray(at)]);
    else if (op === 3) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(8))]);
    else if (op === 4) b = b.subarray(0, at);
    else if (op === 5) b = Buffer.concat([b.subarray(0, at), b.subarray(pick(b.length))]);
    else if (at + 4 <= b.length) b.writeUInt32LE([0, 0xffffffff, 0x7fffffff, 0x80000000, b.length][pick(5)], at);
  }
  return b;
}

async function consume(file: string): Promise<'ok' | 'error'> {
  try {
    const src = await openParquet(file, { chunkRows: 6 });
    let next = 0;
    for await (const c of src.chunks()) {
      const wellFormed = c.K === src.info.K && c.rows > 0 && c.data.length === c.rows * c.K && c.firstRow === next;
      if (!wellFormed) throw new Error(`malformed chunk: rows ${c.rows}, K ${c.K} (info ${src.info.K}), ${c.data.length} values, firstRow ${c.firstRow} (expected ${next})`);
      next += c.rows;
    }
    if (next !== src.info.rows) throw new Error(`read ${next} rows, info says ${src.info.rows}`);
    return 'ok';
  } catch (e) {
    if (e instanceof LabelFileError) return 'error';
    throw e;
  }
}

async function main(): Promise<void> {
  const [seed, per, dir, ...fixtures] = process.argv.slice(2);
  const r = rng(Number(seed));
  let i = 0;
  for (const fixture of fixtures) {
    const bytes = readFileSync(fixture);
    for (let j = 0; j < Number(per); j++, i++) {
      const file = join(dir, `fuzz-${i}.parquet`);
      writeFileSync(file, mutate(bytes, r));
      process.stdout.write(`start ${i} ${basename(fixture)} ${file}\n`);
      process.stdout.write(`done ${i} ${await consume(file)}\n`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
