/**
 * Deterministic test vectors η for the CC normalizer: K, a spread ρ = max η − min η, and a
 * pattern (random nodes, ties, tight clusters, one node apart, Gaussian). The generator of
 * the reference file and the tests that read it both build the vectors here, so the
 * reference file holds only the parameters and the values.
 */
export type Pattern = 'random' | 'ties' | 'clusters' | 'spike' | 'gaussian';

export interface VectorSpec {
  K: number;
  spread: number;
  pattern: Pattern;
  seed: number;
}

/** mulberry32: a small, well-mixed 32-bit PRNG, so vectors are the same on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeVector({ K, spread, pattern, seed }: VectorSpec): number[] {
  const r = rng(seed);
  const offset = Math.round((r() - 0.5) * 6 * 1024) / 1024; // a shift in [−3, 3]
  let unit: number[];
  switch (pattern) {
    case 'random':
      unit = Array.from({ length: K }, () => r());
      break;
    case 'ties': {
      const distinct = Array.from({ length: Math.max(2, Math.ceil(K / 3)) }, () => r());
      unit = Array.from({ length: K }, (_, k) => distinct[k < distinct.length ? k : Math.floor(r() * distinct.length)]);
      break;
    }
    case 'clusters': {
      const centers = [0, 1, 0.5];
      unit = Array.from({ length: K }, (_, k) => centers[k % 3] + (r() - 0.5) * 1e-9);
      break;
    }
    case 'spike':
      unit = Array.from({ length: K }, (_, k) => (k === K - 1 ? 1 : 0));
      break;
    case 'gaussian':
      unit = Array.from({ length: K }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
      break;
  }
  const lo = Math.min(...unit);
  const hi = Math.max(...unit);
  const scale = hi > lo ? spread / (hi - lo) : 0;
  return unit.map((u) => offset + (u - lo) * scale);
}

export const KS = [2, 3, 5, 10, 100, 1000, 10000];
export const SPREADS = [0, 1e-12, 1e-6, 1e-3, 0.1, 1, 10, 100, 700];
/**
 * Spreads far past 700, for K = 100 and 1000: there a low prefix of the sorted nodes, tiny
 * next to the table's top at one degree, carries a large share of the top at later degrees,
 * so a table rescaled as a whole (flushing what falls far below its top) loses mass.
 */
export const LARGE_KS = [100, 1000];
export const LARGE_SPREADS = [3000, 10000];

/**
 * The grid the reference file covers: every K and spread, more patterns at small K, then the
 * large spreads (appended, so the seeds of the earlier vectors do not move).
 */
export function referenceGrid(): VectorSpec[] {
  const specs: VectorSpec[] = [];
  let seed = 1;
  for (const K of KS) {
    const patterns: Pattern[] =
      K <= 100 ? ['random', 'ties', 'clusters', 'spike', 'gaussian'] : K <= 1000 ? ['random', 'ties', 'clusters'] : ['random', 'clusters'];
    for (const spread of SPREADS) {
      for (const pattern of patterns) specs.push({ K, spread, pattern, seed: seed++ });
    }
  }
  for (const K of LARGE_KS) {
    for (const spread of LARGE_SPREADS) {
      for (const pattern of ['random', 'clusters'] as const) specs.push({ K, spread, pattern, seed: seed++ });
    }
  }
  return specs;
}

/** Components whose mean the reference records: all for K ≤ 100, else min, max and six more. */
export function meanComponents(eta: readonly number[]): number[] {
  const K = eta.length;
  if (K <= 100) return eta.map((_, j) => j);
  let lo = 0;
  let hi = 0;
  for (let j = 1; j < K; j++) {
    if (eta[j] < eta[lo]) lo = j;
    if (eta[j] > eta[hi]) hi = j;
  }
  const picked = new Set([lo, hi]);
  for (let s = 1; picked.size < 8; s++) picked.add(Math.floor((s * 7919) % K));
  return [...picked];
}
