/**
 * An input the CC core cannot work with. The message names the offending value and its
 * position, so the CLI and the extension can show it as it is.
 */
export class CcInputError extends Error {
  /** 0-based index of the offending component, when there is one. */
  readonly index: number | undefined;
  /** 0-based row of a batch or file, when there is one. */
  readonly row: number | undefined;

  constructor(message: string, index?: number, row?: number) {
    super(message);
    this.name = 'CcInputError';
    this.index = index;
    this.row = row;
  }

  /** The same error, placed at a row of a batch or file (1-based in the message). */
  atRow(row: number, what = 'row'): CcInputError {
    return new CcInputError(`${what} ${row + 1}: ${this.message}`, this.index, row);
  }
}

/** Checks a vector of natural parameters η = log λ. */
export function checkEta(eta: ArrayLike<number>): void {
  const K = eta.length;
  if (K < 2) {
    throw new CcInputError(`the CC distribution needs K ≥ 2 components, got K = ${K}`);
  }
  for (let k = 0; k < K; k++) {
    const v = eta[k];
    if (!Number.isFinite(v)) {
      throw new CcInputError(`η[${k}] = ${String(v)} is not a finite number`, k);
    }
  }
}

/** Checks probabilities λ (normalized or not): all finite and strictly positive. */
export function checkLambda(lambda: ArrayLike<number>): void {
  const K = lambda.length;
  if (K < 2) {
    throw new CcInputError(`the CC distribution needs K ≥ 2 components, got K = ${K}`);
  }
  let allZero = true;
  for (let k = 0; k < K; k++) {
    const v = lambda[k];
    if (!Number.isFinite(v)) {
      throw new CcInputError(`λ[${k}] = ${String(v)} is not a finite number`, k);
    }
    if (v < 0) {
      throw new CcInputError(`λ[${k}] = ${v} is negative; probabilities must be ≥ 0`, k);
    }
    if (v !== 0) allZero = false;
  }
  if (allZero) {
    throw new CcInputError(`all ${K} probabilities are zero`);
  }
  for (let k = 0; k < K; k++) {
    if (lambda[k] === 0) {
      throw new CcInputError(
        `λ[${k}] = 0: the CC normalizer needs every λ > 0 (log λ would be −∞)`,
        k,
      );
    }
  }
}
