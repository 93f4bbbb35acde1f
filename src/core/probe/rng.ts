/**
 * A small seeded random number generator for the probes' data (splits, subsets, synthetic
 * clusters). The probes promise that every run of a probe sees the same data on every
 * machine, so this uses only 32-bit integer arithmetic (Math.imul, >>>) for the stream, and
 * for normals Math.log/Math.sqrt/Math.cos, which V8 computes with its own fdlibm port (the
 * same bits on every platform Node runs on), not the C library's.
 *
 * Generator: xoshiro128** (Blackman and Vigna), seeded through splitmix32 so that nearby
 * seeds give unrelated streams.
 */

/** The probes' fixed data seed: the same split and subsets for every run seed. */
export const DATA_SEED = 0x1055_1e25;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The second normal of the last Box–Muller pair, not yet handed out. */
  private spare: number | null = null;

  /** `stream` separates independent uses of one seed (train subset, test subset, …). */
  constructor(seed: number, stream = 0) {
    const st = { s: (seed ^ Math.imul(stream + 1, 0x27d4eb2f)) | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // An all-zero state would stay zero; splitmix32 makes it practically impossible, but be sure.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias (n ≤ 2^32). */
  int(n: number): number {
    if (!(n >= 1 && n <= 2 ** 32 && Number.isInteger(n))) throw new RangeError(`Rng.int: n = ${n} is not an integer in [1, 2^32]`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /** A standard normal (Box–Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    // 1 − float() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.float()));
    const theta = 2 * Math.PI * this.float();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0…n−1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
