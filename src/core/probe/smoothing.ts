/**
 * TensorBoard's smoothing of a training curve: an exponential moving average started at 0
 * and divided by 1 − weight^n (n = finite points so far), which removes the pull towards the
 * zero start, so a constant series comes out as itself from the first point.
 *
 * NaN-safe as TensorBoard is: a non-finite value is passed through as it is and does not
 * enter the average, so one diverged step does not poison the rest of the curve.
 * weight = 0 is no smoothing; weight = 1 is the limit of the formula, the running mean.
 */
export function debiasedEma(values: ArrayLike<number>, weight: number): Float64Array {
  if (!(weight >= 0 && weight <= 1)) throw new RangeError(`smoothing weight must be in [0, 1], got ${weight}`);
  const out = new Float64Array(values.length);
  let m = 0;
  let n = 0;
  let wn = 1; // weight^n, kept as a product instead of Math.pow each step
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    n++;
    wn *= weight;
    // The debiased average itself, updated in place: with last_n = w·last_{n−1} + (1 − w)·v
    // and m_n = last_n / (1 − w^n), m_n = m_{n−1} + g·(v − m_{n−1}), g = (1 − w)/(1 − w^n).
    // This form keeps a constant series exact (g = 1 at n = 1, then v − m = 0); at w = 1 the
    // gain's limit is 1/n.
    const g = weight === 1 ? 1 / n : (1 - weight) / (1 - wn);
    m += g * (v - m);
    out[i] = m;
  }
  return out;
}
