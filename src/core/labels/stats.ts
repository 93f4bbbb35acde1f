import { NEAR_UNIFORM_DIGITS_LOST, predictDigitsLost } from '../cc/analysis';
import { naiveTermStats } from '../cc/naive';
import { logExpUnchecked } from '../cc/normalizer';
import { CcWorkspace } from '../cc/workspace';
import type { LabelChunk } from './types';

/**
 * Statistics of soft labels, accumulated chunk by chunk in memory independent of the row
 * count (the flagged-row list is capped).
 *
 * Per row p (K entries): sum, min, entropy H = −Σ p log p (nats; 0·log 0 = 0) and H / log K,
 * max probability and argmax, total-variation distance to uniform ½Σ|p − 1/K|, KL divergence
 * to uniform log K − H, total-variation distance to the nearest one-hot vertex
 * ½(1 − max p + Σ p − max p), and the digits a naive float32 CC normalizer would lose at λ = p
 * (see cc/analysis.ts; rows with a zero entry have no CC normalizer and are never near-uniform).
 *
 * Validity: a row is invalid when an entry is not finite, an entry is negative, or
 * |Σp − 1| > sumTolerance. Near-uniform rows (naive float32 keeps fewer than 2 digits) are
 * flagged but valid. Histograms, class counts and means are over valid rows.
 */
export interface StatsOptions {
  /** |Σp − 1| above this makes a row invalid (default 1e-3). */
  sumTolerance?: number;
  /** Flagged rows kept in the list (default 10 000); all are counted. */
  maxFlagged?: number;
  /** Histogram bins (default 20). */
  bins?: number;
  /** Above this K the naive normalizer's digits lost come from a sample of 32 terms per row. */
  naiveMaxK?: number;
  /** Skip the naive normalizer's digits lost (and so the near-uniform flag); default false. */
  skipDigitsLost?: boolean;
}

export interface Histogram {
  /** Bin edges, bins + 1 of them. */
  edges: number[];
  counts: number[];
}

export interface FlaggedRow {
  /** 0-based row index. */
  row: number;
  /** 1-based line in a text file. */
  line?: number;
  reasons: string[];
}

export interface LabelStatsResult {
  rows: number;
  classes: number;
  counts: { valid: number; nonFinite: number; negative: number; sumOff: number; nearUniform: number };
  histograms: { entropy: Histogram; maxProb: Histogram; tvToUniform: Histogram };
  classCounts: number[];
  classMeans: number[];
  means: {
    entropy: number;
    normalizedEntropy: number;
    maxProb: number;
    tvToUniform: number;
    klToUniform: number;
    distanceToVertex: number;
    digitsLost: number;
  };
  flagged: FlaggedRow[];
  flaggedTotal: number;
  sumTolerance: number;
}

const SAMPLE = 32;

export class LabelStats {
  private rows = 0;
  private readonly counts = { valid: 0, nonFinite: 0, negative: 0, sumOff: 0, nearUniform: 0 };
  private readonly hist: { entropy: number[]; maxProb: number[]; tvToUniform: number[] };
  private readonly classCounts: Float64Array;
  private readonly classSums: Float64Array;
  private readonly sums = { entropy: 0, normalizedEntropy: 0, maxProb: 0, tvToUniform: 0, klToUniform: 0, distanceToVertex: 0, digitsLost: 0 };
  private digitsRows = 0;
  private readonly flagged: FlaggedRow[] = [];
  private flaggedTotal = 0;
  private readonly ws: CcWorkspace;
  private readonly eta: Float64Array;
  private readonly sample: Int32Array | undefined;
  private readonly tol: number;
  private readonly bins: number;
  private readonly maxFlagged: number;
  private readonly withDigits: boolean;

  constructor(
    readonly K: number,
    opts: StatsOptions = {},
  ) {
    this.tol = opts.sumTolerance ?? 1e-3;
    this.bins = opts.bins ?? 20;
    this.maxFlagged = opts.maxFlagged ?? 10_000;
    this.withDigits = !opts.skipDigitsLost;
    this.hist = { entropy: new Array<number>(this.bins).fill(0), maxProb: new Array<number>(this.bins).fill(0), tvToUniform: new Array<number>(this.bins).fill(0) };
    this.classCounts = new Float64Array(K);
    this.classSums = new Float64Array(K);
    this.ws = new CcWorkspace(K);
    this.eta = new Float64Array(K);
    if (K > (opts.naiveMaxK ?? 64)) this.sample = Int32Array.from({ length: SAMPLE }, (_, s) => Math.floor((s * (K - 1)) / (SAMPLE - 1)));
  }

  add(chunk: LabelChunk): void {
    const { data, rows, K } = chunk;
    for (let r = 0; r < rows; r++) this.addRow(data, r * K, chunk.firstRow + r, chunk.lines?.[r]);
  }

  private addRow(data: Float64Array, base: number, row: number, line: number | undefined): void {
    const K = this.K;
    this.rows++;
    const reasons: string[] = [];
    let sum = 0;
    let badFinite = -1;
    let badNegative = -1;
    let zero = false;
    for (let k = 0; k < K; k++) {
      const v = data[base + k];
      if (!Number.isFinite(v)) {
        if (badFinite < 0) badFinite = k;
      } else if (v < 0) {
        if (badNegative < 0) badNegative = k;
      } else if (v === 0) zero = true;
      sum += v;
    }
    if (badFinite >= 0) {
      this.counts.nonFinite++;
      reasons.push(`non-finite value ${String(data[base + badFinite])} in column ${badFinite + 1}`);
    }
    if (badNegative >= 0) {
      this.counts.negative++;
      reasons.push(`negative value ${data[base + badNegative]} in column ${badNegative + 1}`);
    }
    if (badFinite < 0 && Math.abs(sum - 1) > this.tol) {
      this.counts.sumOff++;
      reasons.push(`sums to ${sum.toPrecision(6)}, not 1`);
    }
    if (reasons.length === 0) this.addValid(data, base, sum, zero, reasons);
    if (reasons.length > 0) {
      this.flaggedTotal++;
      if (this.flagged.length < this.maxFlagged) this.flagged.push(line === undefined ? { row, reasons } : { row, line, reasons });
    }
  }

  private addValid(data: Float64Array, base: number, sum: number, zero: boolean, reasons: string[]): void {
    const K = this.K;
    this.counts.valid++;
    let H = 0;
    let max = -1;
    let arg = 0;
    let tv = 0;
    for (let k = 0; k < K; k++) {
      const p = data[base + k];
      if (p > 0) H -= p * Math.log(p);
      if (p > max) {
        max = p;
        arg = k;
      }
      tv += Math.abs(p - 1 / K);
      this.classSums[k] += p;
    }
    tv /= 2;
    const logK = Math.log(K);
    const normH = H / logK;
    this.classCounts[arg]++;
    this.sums.entropy += H;
    this.sums.normalizedEntropy += normH;
    this.sums.maxProb += max;
    this.sums.tvToUniform += tv;
    this.sums.klToUniform += logK - H;
    this.sums.distanceToVertex += (1 - max + (sum - max)) / 2;
    this.bin(this.hist.entropy, normH, 1);
    this.bin(this.hist.maxProb, max, 1);
    this.bin(this.hist.tvToUniform, tv, 1);
    if (!zero && this.withDigits) {
      const digits = this.digitsLost(data, base);
      this.sums.digitsLost += digits;
      this.digitsRows++;
      if (digits > NEAR_UNIFORM_DIGITS_LOST) {
        this.counts.nearUniform++;
        reasons.push(`near-uniform: a naive float32 CC normalizer loses ${digits.toFixed(1)} of 7.2 digits`);
      }
    }
  }

  private digitsLost(data: Float64Array, base: number): number {
    const K = this.K;
    const eta = this.eta;
    for (let k = 0; k < K; k++) eta[k] = Math.log(data[base + k]);
    const logExp = logExpUnchecked(eta, K, this.ws);
    return predictDigitsLost(eta, logExp, 'float32', naiveTermStats(eta, this.sample));
  }

  private bin(h: number[], v: number, hi: number): void {
    const i = Math.min(this.bins - 1, Math.max(0, Math.floor((v / hi) * this.bins)));
    h[i]++;
  }

  result(): LabelStatsResult {
    const edges = Array.from({ length: this.bins + 1 }, (_, i) => i / this.bins);
    const n = this.counts.valid || 1;
    const mean = (s: number): number => (this.counts.valid ? s / n : NaN);
    return {
      rows: this.rows,
      classes: this.K,
      counts: { ...this.counts },
      histograms: {
        entropy: { edges, counts: [...this.hist.entropy] },
        maxProb: { edges, counts: [...this.hist.maxProb] },
        tvToUniform: { edges, counts: [...this.hist.tvToUniform] },
      },
      classCounts: Array.from(this.classCounts),
      classMeans: Array.from(this.classSums, (s) => mean(s)),
      means: {
        entropy: mean(this.sums.entropy),
        normalizedEntropy: mean(this.sums.normalizedEntropy),
        maxProb: mean(this.sums.maxProb),
        tvToUniform: mean(this.sums.tvToUniform),
        klToUniform: mean(this.sums.klToUniform),
        distanceToVertex: mean(this.sums.distanceToVertex),
        digitsLost: this.digitsRows ? this.sums.digitsLost / this.digitsRows : NaN,
      },
      flagged: this.flagged,
      flaggedTotal: this.flaggedTotal,
      sumTolerance: this.tol,
    };
  }
}
