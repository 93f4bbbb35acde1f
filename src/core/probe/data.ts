import type { DataSpec, TargetKind } from '../../shared/probeProtocol';
import { ReadCancelled } from '../labels/types';
import { checkAborted, softmaxRows, type BaseData, type LoadContext, type ProbeDataset } from './common';
import { loadFashionMnist } from './fashionMnist';
import { loadFiles, readMatrix } from './filesData';
import { syntheticData } from './synthetic';

/**
 * The data of a training probe. Every split and subset is drawn with the fixed DATA_SEED
 * (rng.ts), not the run seeds, so all runs of a probe (every loss, every seed) train and
 * evaluate on the same rows.
 *
 * Labels: the dataset's own class labels where it has them (Fashion-MNIST; integer-label
 * files); the argmax of the soft rows where the data itself is soft (soft-target files, the
 * synthetic set). A teacher file adds soft targets but does not replace existing labels, so
 * accuracy stays measured against the ground truth.
 *
 * Teacher row order: a teacher file has one row of K logits per row of the dataset's full
 * set, before any split or subset, in the order BaseData.fullOrder names:
 *   fashion-mnist  the train file's rows, then the test file's (70 000 for the release)
 *   synthetic      its train rows, then its test rows (train + test)
 *   files          the features file's rows, in file order
 * Any other row count is an error that names both counts.
 */
export type { ProbeDataset } from './common';

export interface LoadOptions {
  temperature: number;
  teacher?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

export async function loadDataset(spec: DataSpec, opts: LoadOptions): Promise<ProbeDataset> {
  const T = opts.temperature;
  if (!(T > 0 && Number.isFinite(T))) throw new Error(`the temperature must be a positive number, got ${T}`);
  const report = opts.onProgress ?? (() => undefined);
  // Without a teacher the data is the whole job; with one, it is 80% of it.
  const share = opts.teacher ? 0.8 : 1;
  const ctx: LoadContext = {
    ...(opts.signal ? { signal: opts.signal } : {}),
    progress: (f, m) => report(Math.min(1, Math.max(0, f)) * share, m),
  };
  let base: BaseData;
  try {
    checkAborted(opts.signal, 'loading data');
    switch (spec.kind) {
      case 'fashion-mnist':
        base = await loadFashionMnist(spec, ctx);
        break;
      case 'synthetic':
        base = syntheticData(spec, T, ctx);
        break;
      case 'files':
        base = await loadFiles(spec, ctx);
        break;
      default:
        throw new Error(`unknown data kind ${(spec as { kind: string }).kind}`);
    }
    if (opts.teacher) await applyTeacher(base, opts.teacher, T, { ...ctx, progress: (f, m) => report(0.8 + 0.2 * f, m) });
  } catch (e) {
    // fs reads cancelled through their signal throw an AbortError; make it one kind.
    if ((e as Error).name === 'AbortError') throw new ReadCancelled('loading data');
    throw e;
  }
  report(1, `${base.name}: ready`);
  return publicPart(base);
}

/** The dataset without the bookkeeping of where its rows came from. */
function publicPart(b: BaseData): ProbeDataset {
  const ds: ProbeDataset = {
    name: b.name,
    description: b.description,
    inputShape: b.inputShape,
    classes: b.classes,
    trainRows: b.trainRows,
    testRows: b.testRows,
    xTrain: b.xTrain,
    xTest: b.xTest,
    labelsTrain: b.labelsTrain,
    labelsTest: b.labelsTest,
  };
  if (b.softTrain && b.softTest) {
    ds.softTrain = b.softTrain;
    ds.softTest = b.softTest;
  }
  return ds;
}

/** Whether an error is a cancelled load (the label readers' ReadCancelled, or an AbortError). */
export function isCancelled(e: unknown): boolean {
  return e instanceof ReadCancelled || (e instanceof Error && e.name === 'AbortError');
}

async function applyTeacher(base: BaseData, file: string, T: number, ctx: LoadContext): Promise<void> {
  const m = await readMatrix(file, ctx, [0, 0.9]);
  if (m.rows !== base.fullRows) {
    throw new Error(
      `${file} has ${m.rows} rows of teacher logits, but ${base.name} has ${base.fullRows} rows in its full set; the teacher needs one row per data row, in this order: ${base.fullOrder}`,
    );
  }
  if (m.cols !== base.classes) throw new Error(`${file} has ${m.cols} logits per row, but the data has ${base.classes} classes`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new Error(`${file}: row ${Math.floor(i / m.cols) + 1}, column ${(i % m.cols) + 1}: teacher logit ${String(m.data[i])} is not a finite number`);
    }
  }
  const K = base.classes;
  const pick = (idx: Int32Array): Float64Array => {
    const out = new Float64Array(idx.length * K);
    for (let r = 0; r < idx.length; r++) out.set(m.data.subarray(idx[r] * K, (idx[r] + 1) * K), r * K);
    return out;
  };
  base.softTrain = softmaxRows(pick(base.trainIndex), base.trainRows, K, T);
  base.softTest = softmaxRows(pick(base.testIndex), base.testRows, K, T);
  base.description += `; soft targets softmax(teacher logits / ${T}) from ${file}`;
}

/**
 * The training (or held-out) targets of one kind, rows × K:
 *   onehot  from the labels
 *   ls      (1 − α)·onehot + α/K
 *   soft    the soft rows (a soft-targets file, a teacher, or the synthetic set)
 */
export function targetsFor(ds: ProbeDataset, kind: TargetKind, split: 'train' | 'test', alpha: number): Float32Array {
  const K = ds.classes;
  const rows = split === 'train' ? ds.trainRows : ds.testRows;
  if (kind === 'soft') {
    const soft = split === 'train' ? ds.softTrain : ds.softTest;
    if (!soft) {
      throw new Error(
        `${ds.name} has no soft targets; the losses soft-ce and cc train on soft targets. Give a file of soft target rows (files data), teacher logits (--teacher / the teacher setting), or use the synthetic data set`,
      );
    }
    return soft;
  }
  const a = kind === 'ls' ? alpha : 0;
  if (!(a >= 0 && a <= 1)) throw new Error(`label smoothing α must be in [0, 1], got ${alpha}`);
  const labels = split === 'train' ? ds.labelsTrain : ds.labelsTest;
  const out = new Float32Array(rows * K).fill(a / K);
  for (let r = 0; r < rows; r++) out[r * K + labels[r]] = 1 - a + a / K;
  return out;
}
