/**
 * From a lint finding to the training probe that answers it (the CodeLens above a flagged call):
 * label smoothing at the code's own α → cross-entropy vs LS vs CC-LS on Fashion-MNIST; soft
 * targets or distillation → soft-target CE vs CC on the synthetic set, whose teacher gives soft
 * targets. Pure: the editor turns a plan into a probe configuration.
 */
import { LOSS_TABLE, type LossKind, type TableRow } from '../../shared/probeProtocol';
import type { Finding } from './types';

export interface ProbePlan {
  /** Same key, same probe: results are kept per key (one α, or the soft-target probe). */
  key: string;
  /** The CodeLens title (without the icon). */
  title: string;
  losses: LossKind[];
  /** Label smoothing α (smoothing plans only). */
  alpha?: number;
  data: 'fashion-mnist' | 'synthetic';
}

/** The plan for a finding; undefined when α is not a usable smoothing (the rules only flag α > 0). */
export function probePlanFor(f: Pick<Finding, 'code' | 'smoothing'>): ProbePlan | undefined {
  if (f.smoothing !== undefined) {
    const a = f.smoothing;
    if (!(a > 0 && a < 1)) return undefined;
    return { key: `ls:${a}`, title: `Probe CE vs LS (α = ${a}) vs CC-LS`, losses: ['ce', 'ls', 'cc-ls'], alpha: a, data: 'fashion-mnist' };
  }
  return { key: 'soft', title: 'Probe soft-target CE vs CC', losses: ['soft-ce', 'cc'], data: 'synthetic' };
}

const SHORT: Record<LossKind, string> = { ce: 'CE', ls: 'LS', 'cc-ls': 'CC-LS', 'soft-ce': 'soft CE', cc: 'CC' };

/** One line for a lens: held-out accuracy and ECE per loss, as the results table has them. */
export function summarizeTable(rows: readonly TableRow[]): string {
  const parts = rows.map((r) => {
    const acc = r.accuracyMean === null ? 'n/a' : `${(100 * r.accuracyMean).toFixed(1)}%`;
    const ece = r.eceMean === null ? '' : ` ECE ${r.eceMean.toFixed(3)}`;
    return `${SHORT[r.loss] ?? LOSS_TABLE[r.loss]?.label ?? r.loss} ${acc}${ece}`;
  });
  return parts.join(' · ');
}
