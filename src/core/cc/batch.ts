import { CcInputError } from './errors';
import { ccMeanInto, logExpUnchecked } from './normalizer';
import { CcWorkspace } from './workspace';

/**
 * Batched evaluation over the rows of a row-major N×K Float64Array. One workspace serves
 * all rows, so nothing is allocated per row. A bad row throws a CcInputError naming the row
 * and the column.
 */
export interface BatchShape {
  rows: number;
  cols: number;
}

function checkShape(data: Float64Array, { rows, cols }: BatchShape): void {
  if (!Number.isInteger(cols) || cols < 2) throw new CcInputError(`K must be an integer ≥ 2, got ${cols}`);
  if (data.length !== rows * cols) {
    throw new CcInputError(`the data has ${data.length} numbers, not rows × K = ${rows} × ${cols}`);
  }
}

function checkRow(data: Float64Array, row: number, K: number): void {
  const base = row * K;
  for (let k = 0; k < K; k++) {
    const v = data[base + k];
    if (!Number.isFinite(v)) {
      throw new CcInputError(`row ${row + 1}, column ${k + 1}: η = ${String(v)} is not a finite number`, k, row);
    }
  }
}

/** log C(e^η) for each row into `out` (length N). */
export function logNormalizerBatch(
  eta: Float64Array,
  shape: BatchShape,
  out = new Float64Array(shape.rows),
  ws = new CcWorkspace(shape.cols),
): Float64Array {
  checkShape(eta, shape);
  const K = shape.cols;
  for (let r = 0; r < shape.rows; r++) {
    checkRow(eta, r, K);
    out[r] = -logExpUnchecked(eta, K, ws, r * K);
  }
  return out;
}

/** log C for each row into `logC` and the CC mean of each row into `mean` (N×K). */
export function ccMeanBatch(
  eta: Float64Array,
  shape: BatchShape,
  mean = new Float64Array(eta.length),
  logC = new Float64Array(shape.rows),
  ws = new CcWorkspace(shape.cols),
): { logC: Float64Array; mean: Float64Array } {
  checkShape(eta, shape);
  const K = shape.cols;
  for (let r = 0; r < shape.rows; r++) {
    checkRow(eta, r, K);
    logC[r] = -ccMeanInto(eta, K, ws, r * K, mean, r * K);
  }
  return { logC, mean };
}

/**
 * The CC negative log-likelihood ℓ(z; y) = log exp[z] − y·z of each row, and its gradient
 * μ(z) − y into `grad` (N×K). Targets must lie on the simplex (within 1e-6).
 */
export function ccNllBatch(
  z: Float64Array,
  y: Float64Array,
  shape: BatchShape,
  loss = new Float64Array(shape.rows),
  grad = new Float64Array(z.length),
  ws = new CcWorkspace(shape.cols),
): { loss: Float64Array; grad: Float64Array } {
  checkShape(z, shape);
  checkShape(y, shape);
  const K = shape.cols;
  for (let r = 0; r < shape.rows; r++) {
    checkRow(z, r, K);
    const base = r * K;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const v = y[base + k];
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new CcInputError(`row ${r + 1}, column ${k + 1}: target ${String(v)} is not a non-negative number`, k, r);
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-6) throw new CcInputError(`row ${r + 1}: the target sums to ${sum}, not 1`, undefined, r);
    const logExp = ccMeanInto(z, K, ws, base, grad, base);
    let yz = 0;
    for (let k = 0; k < K; k++) {
      yz += y[base + k] * z[base + k];
      grad[base + k] -= y[base + k];
    }
    loss[r] = logExp - yz;
  }
  return { loss, grad };
}
