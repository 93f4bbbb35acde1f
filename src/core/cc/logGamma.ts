/**
 * ln Γ(n) = ln (n − 1)! for an integer n ≥ 1.
 *
 * Method: for n ≤ 171, (n − 1)! is formed by repeated multiplication in float64 (exact up to
 * 22!, relative error below n·2⁻⁵³ after) and its logarithm taken, so the absolute error is
 * below 2·10⁻¹⁴. For larger n, Stirling's series
 *   ln Γ(x) = (x − ½) ln x − x + ½ ln 2π + 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷),
 * whose truncation error at x ≥ 171 is below 10⁻²⁰ (the next term is 1/(1188x⁹)).
 *
 * Example: lnGammaInt(10) = ln 9! = 12.801827480081469…
 */
const SMALL = 171;
const table = new Float64Array(SMALL + 1);
{
  let f = 1;
  table[1] = 0;
  for (let n = 2; n <= SMALL; n++) {
    f *= n - 1;
    table[n] = Math.log(f);
  }
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export function lnGammaInt(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`lnGammaInt needs an integer n ≥ 1, got ${n}`);
  }
  if (n <= SMALL) return table[n];
  const x = n;
  const ix = 1 / x;
  const ix2 = ix * ix;
  const series = ix * (1 / 12 - ix2 * (1 / 360 - ix2 * (1 / 1260 - ix2 / 1680)));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series;
}
