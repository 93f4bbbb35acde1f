import assert from 'node:assert/strict';

/** Asserts |actual − expected| ≤ tol, printing input, output, expected, tolerance and difference. */
export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  const diff = Math.abs(actual - expected);
  if (!(diff <= tol)) {
    assert.fail(`${what}: got ${actual}, expected ${expected}, |difference| ${diff} > tolerance ${tol}`);
  }
}

/** The tolerance of the core's contract for log C: 1e-13·max(1, |log C|). */
export const logCTol = (ref: number): number => 1e-13 * Math.max(1, Math.abs(ref));

export function show(v: readonly number[] | Float64Array, max = 6): string {
  const a = Array.from(v);
  return `[${a.slice(0, max).join(', ')}${a.length > max ? `, … (K = ${a.length})` : ''}]`;
}
