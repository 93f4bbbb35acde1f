import type { EvalPoint, LossKind, RunSummary, TableRow } from '../../shared/probeProtocol';
import { LOSS_TABLE } from '../../shared/probeProtocol';

/**
 * A run's summary, and the results table over seeds.
 *
 * summarizeRun: `steps` and `losses` are the training steps (from 1) and their losses as the
 * run reported them. finalTrainLoss is the mean over the last 10% of the reported steps (at
 * least one); null when there are none or when one of them is not finite (the run diverged:
 * firstNonFiniteStep says where). firstNonFiniteStep is the first step with a non-finite
 * training loss or an evaluation with non-finite logits. `seconds` ≤ 0 gives stepsPerSecond 0
 * (unknown), not ∞.
 */
export function summarizeRun(steps: number[], losses: number[], evals: EvalPoint[], seconds: number): RunSummary {
  const n = Math.min(steps.length, losses.length);
  const tail = Math.max(1, Math.ceil(n / 10));
  let finalTrainLoss: number | null = null;
  if (n > 0) {
    let s = 0;
    for (let i = n - tail; i < n; i++) s += losses[i];
    finalTrainLoss = Number.isFinite(s) ? s / tail : null;
  }
  let firstNonFinite: number | null = null;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(losses[i])) {
      firstNonFinite = steps[i];
      break;
    }
  }
  const evalNonFinite = evals.find((e) => e.nonFinite)?.step ?? null;
  if (evalNonFinite !== null && (firstNonFinite === null || evalNonFinite < firstNonFinite)) firstNonFinite = evalNonFinite;
  const lastStep = n > 0 ? Math.max(...steps.slice(0, n)) : 0;
  return {
    steps: Math.max(lastStep, evals.length ? evals[evals.length - 1].step : 0),
    finalTrainLoss,
    lastEval: evals.length ? evals[evals.length - 1] : null,
    firstNaiveFailureStep: evals.find((e) => e.naiveFailure)?.step ?? null,
    firstNonFiniteStep: firstNonFinite,
    stepsPerSecond: seconds > 0 ? n / seconds : 0,
  };
}

/** Mean of the finite values; null when there are none. */
function mean(xs: number[]): number | null {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
}

/** Sample standard deviation (n − 1) of the finite values; null for fewer than two. */
function sampleStd(xs: number[]): number | null {
  const f = xs.filter(Number.isFinite);
  if (f.length < 2) return null;
  const m = f.reduce((a, b) => a + b, 0) / f.length;
  return Math.sqrt(f.reduce((a, b) => a + (b - m) ** 2, 0) / (f.length - 1));
}

/**
 * One row per loss, in the order the losses first appear. Means and standard deviations are
 * over the runs' last evaluations (runs without one, or with a NaN figure, are left out of
 * that figure but still counted in `runs`); firstNaiveFailureStep is the earliest over seeds;
 * stepsPerSecond the mean over runs that measured it.
 */
export function buildTable(runs: { loss: LossKind; summary: RunSummary }[]): TableRow[] {
  const groups = new Map<LossKind, RunSummary[]>();
  for (const r of runs) {
    const g = groups.get(r.loss);
    if (g) g.push(r.summary);
    else groups.set(r.loss, [r.summary]);
  }
  return [...groups].map(([loss, ss]) => {
    const last = ss.map((s) => s.lastEval).filter((e): e is EvalPoint => e !== null);
    const fails = ss.map((s) => s.firstNaiveFailureStep).filter((v): v is number => v !== null);
    const acc = last.map((e) => e.accuracy);
    const ece = last.map((e) => e.ece);
    return {
      loss,
      runs: ss.length,
      accuracyMean: mean(acc),
      accuracyStd: sampleStd(acc),
      eceMean: mean(ece),
      eceStd: sampleStd(ece),
      evalLossMean: mean(last.map((e) => e.loss)),
      nearUniformMean: mean(last.map((e) => e.nearUniform)),
      firstNaiveFailureStep: fails.length ? Math.min(...fails) : null,
      stepsPerSecond: mean(ss.map((s) => s.stepsPerSecond).filter((v) => v > 0)),
    };
  });
}

const pm = (m: number | null, s: number | null, digits: number, scale = 1): string =>
  m === null ? '–' : `${(m * scale).toFixed(digits)}${s === null ? '' : ` ± ${(s * scale).toFixed(digits)}`}`;
const num = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

/** A fixed-width text table for the CLI (accuracy and near-uniform in percent). */
export function formatTable(rows: TableRow[]): string {
  const header = ['loss', 'runs', 'accuracy %', 'ECE', 'held-out loss', 'near-uniform %', 'naive fails at', 'steps/s'];
  const body = rows.map((r) => [
    `${r.loss} (${LOSS_TABLE[r.loss].label})`,
    String(r.runs),
    pm(r.accuracyMean, r.accuracyStd, 2, 100),
    pm(r.eceMean, r.eceStd, 4),
    num(r.evalLossMean, 4),
    num(r.nearUniformMean === null ? null : r.nearUniformMean * 100, 1),
    r.firstNaiveFailureStep === null ? 'never' : `step ${r.firstNaiveFailureStep}`,
    num(r.stepsPerSecond, 1),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  // Text left-aligned, figures right-aligned, so decimal points line up.
  const line = (cells: string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
