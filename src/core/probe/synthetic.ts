import { argmaxRows, checkAborted, softmaxRows, type BaseData, type LoadContext } from './common';
import { DATA_SEED, Rng } from './rng';

/**
 * Gaussian clusters with a ground-truth linear teacher.
 *
 * Cluster means μ_k ~ N(0, (2.8²/D)·I), so two means are about 4 apart in any dimension D
 * (|μ_j − μ_k|² ≈ 2·2.8²), and a row is x = μ_c + N(0, I) with its cluster c uniform at random.
 * The teacher is W = μ (K × D) and b_k = −|μ_k|²/2: its logits W·x + b are the exact log
 * posterior log p(c = k | x) up to a per-row constant, so at T = 1 the soft targets are the
 * Bayes posterior and no model can beat them. Nearby clusters make them genuinely soft.
 *
 * Labels are the teacher's argmax, not the cluster c and not a sample from the softmax:
 * that keeps labels = argmax of the soft rows at any temperature, as on every other soft
 * dataset, and makes accuracy a measure of agreement with the teacher (the Bayes decision).
 *
 * Rows are train then test; a teacher file given for synthetic data must list its logits
 * in that order (train + test rows).
 */
export function syntheticData(
  spec: { classes: number; features: number; train: number; test: number },
  temperature: number,
  ctx: LoadContext,
): BaseData & { teacherLogits: Float64Array } {
  const { classes: K, features: D, train, test } = spec;
  const int = (name: string, v: number, min: number): void => {
    if (!Number.isInteger(v) || v < min) throw new Error(`synthetic data: ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('classes', K, 2);
  int('features', D, 1);
  int('train', train, 1);
  int('test', test, 1);
  const N = train + test;
  if (N * Math.max(D, K) > 2 ** 28) throw new Error(`synthetic data: ${N} rows × ${Math.max(D, K)} columns is too large`);

  const means = new Float64Array(K * D);
  const bias = new Float64Array(K);
  const meanRng = new Rng(DATA_SEED, 3);
  const sigma = 2.8 / Math.sqrt(D);
  for (let k = 0; k < K; k++) {
    let sq = 0;
    for (let j = 0; j < D; j++) {
      const m = sigma * meanRng.normal();
      means[k * D + j] = m;
      sq += m * m;
    }
    bias[k] = -sq / 2;
  }

  const rowRng = new Rng(DATA_SEED, 4);
  const x = new Float32Array(N * D);
  const logits = new Float64Array(N * K);
  const xr = new Float64Array(D);
  for (let r = 0; r < N; r++) {
    if ((r & 0xfff) === 0) {
      checkAborted(ctx.signal, 'synthetic data');
      ctx.progress(r / N, 'generating synthetic data');
    }
    const c = rowRng.int(K);
    for (let j = 0; j < D; j++) {
      // The teacher sees exactly the float32 features the model sees.
      xr[j] = Math.fround(means[c * D + j] + rowRng.normal());
      x[r * D + j] = xr[j];
    }
    for (let k = 0; k < K; k++) {
      let s = bias[k];
      for (let j = 0; j < D; j++) s += means[k * D + j] * xr[j];
      logits[r * K + k] = s;
    }
  }
  const soft = softmaxRows(logits, N, K, temperature);
  const labels = argmaxRows(logits, N, K);
  const trainIndex = new Int32Array(train).map((_, i) => i);
  const testIndex = new Int32Array(test).map((_, i) => train + i);
  return {
    name: `synthetic (${K} classes, ${D} features, ${train} train / ${test} test)`,
    description: `${K} Gaussian clusters in ${D} dimensions; soft targets softmax(teacher logits / ${temperature}) from the Bayes-optimal linear teacher; labels its argmax`,
    inputShape: [D],
    classes: K,
    trainRows: train,
    testRows: test,
    xTrain: x.slice(0, train * D),
    xTest: x.slice(train * D),
    labelsTrain: labels.slice(0, train),
    labelsTest: labels.slice(train),
    softTrain: soft.slice(0, train * K),
    softTest: soft.slice(train * K),
    fullRows: N,
    fullOrder: 'the synthetic train rows, then its test rows',
    trainIndex,
    testIndex,
    teacherLogits: logits,
  };
}
