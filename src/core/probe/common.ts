import { ReadCancelled } from '../labels/types';

/** The data a probe trains on (see data.ts). */
export interface ProbeDataset {
  name: string;
  description: string;
  /** One row's shape: [D] or [H, W, C] (NHWC). */
  inputShape: number[];
  classes: number;
  trainRows: number;
  testRows: number;
  /** Row-major, rows × prod(inputShape). */
  xTrain: Float32Array;
  xTest: Float32Array;
  /** Class labels; the argmax of the soft rows where the data itself is soft (see data.ts). */
  labelsTrain: Int32Array;
  labelsTest: Int32Array;
  /** rows × K on the simplex, where the data has soft targets. */
  softTrain?: Float32Array;
  softTest?: Float32Array;
}

/**
 * A dataset before any teacher is applied, with where each row came from: a teacher file's
 * rows are matched to `fullRows` rows in the order `fullOrder` describes, and `trainIndex`
 * / `testIndex` say which of those each split's rows are.
 */
export interface BaseData extends ProbeDataset {
  fullRows: number;
  fullOrder: string;
  trainIndex: Int32Array;
  testIndex: Int32Array;
}

export interface LoadContext {
  signal?: AbortSignal;
  /** Overall fraction 0…1 of this stage and a message. */
  progress: (fraction: number, message: string) => void;
}

/**
 * Cancellation throws the label readers' ReadCancelled (name 'ReadCancelled'), so a caller
 * has one error to recognize whichever stage was cancelled; see isCancelled in data.ts.
 */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new ReadCancelled(what);
}

/**
 * softmax(z / T) of each row of a row-major rows × K array, in float64, into float32. The
 * float32 rows are renormalized in float64 once more so each sums to 1 within float32's
 * rounding of its entries.
 */
export function softmaxRows(z: ArrayLike<number>, rows: number, K: number, temperature: number): Float32Array {
  const out = new Float32Array(rows * K);
  const tmp = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    const base = r * K;
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      tmp[k] = z[base + k] / temperature;
      if (tmp[k] > mx) mx = tmp[k];
    }
    let s = 0;
    for (let k = 0; k < K; k++) {
      tmp[k] = Math.exp(tmp[k] - mx);
      s += tmp[k];
    }
    for (let k = 0; k < K; k++) out[base + k] = tmp[k] / s;
  }
  return out;
}

/** Index of the largest entry of row r (the first one on ties). */
export function argmaxRow(a: ArrayLike<number>, r: number, K: number): number {
  const base = r * K;
  let best = 0;
  let v = a[base];
  for (let k = 1; k < K; k++) {
    if (a[base + k] > v) {
      v = a[base + k];
      best = k;
    }
  }
  return best;
}

export function argmaxRows(a: ArrayLike<number>, rows: number, K: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = argmaxRow(a, r, K);
  return out;
}
