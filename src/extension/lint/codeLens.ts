/**
 * The CodeLens above a flagged loss (issue 5 with issue 4): one click starts the training probe
 * that answers the finding (probePlanFor: CE vs LS vs CC-LS at the code's own α, or soft-target
 * CE vs CC), and once it has run, a second lens shows its held-out accuracy and ECE per loss and
 * opens its curves. Results are kept per plan in the workspace state, so they survive a reload.
 */
import * as vscode from 'vscode';
import { probePlanFor, summarizeTable, type ProbePlan } from '../../core/lint/probePlan';
import { DEFAULT_DATA } from '../../probe/config';
import type { ProbeOutcome } from '../../probe/host';
import type { ProbeConfig } from '../../shared/probeProtocol';
import type { Ctx } from '../context';
import type { LiveDiagnostics } from './diagnostics';

export const PROBE_FINDING_COMMAND = 'lossLens.probeFinding';
const STATE_KEY = 'lossLens.lint.probeResults';

export interface PlanResult {
  summary: string;
  status: ProbeOutcome['status'];
  savedTo?: string;
  /** When the probe ended (ms since the epoch). */
  at: number;
}

export class ProbeCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly ctx: Ctx,
    private readonly live: LiveDiagnostics,
  ) {
    this.subscriptions = [
      live.onDidUpdate(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('lossLens.lint.codeLens')) this.changed.fire();
      }),
    ];
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.ctx.config.lintCodeLens) return [];
    const lenses: vscode.CodeLens[] = [];
    const seen = new Set<string>();
    const results = this.results();
    for (const f of this.live.findings(doc.uri)) {
      const plan = probePlanFor(f);
      // One pair of lenses per line and plan (LL101 and LL102 on one call ask the same question).
      if (!plan || seen.has(`${f.line}:${plan.key}`)) continue;
      seen.add(`${f.line}:${plan.key}`);
      const range = new vscode.Range(f.line - 1, 0, f.line - 1, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title: `$(beaker) ${plan.title}`,
          command: PROBE_FINDING_COMMAND,
          arguments: [plan],
          tooltip: `Train the probe model on ${plan.data === 'synthetic' ? 'the synthetic set (a teacher’s soft targets)' : 'Fashion-MNIST'} with ${plan.losses.join(', ')} side by side (Loss Lens probe settings: steps, seeds, backend, model)`,
        }),
      );
      const r = results[plan.key];
      if (r) {
        const when = new Date(r.at).toLocaleString();
        lenses.push(
          new vscode.CodeLens(range, {
            title: r.status === 'done' ? `last probe: ${r.summary}` : `last probe ${r.status}: ${r.summary}`,
            command: r.savedTo ? 'lossLens.openProbeRun' : '',
            arguments: r.savedTo ? [vscode.Uri.file(r.savedTo)] : [],
            tooltip: `Held-out accuracy and expected calibration error of the probe of ${when}${r.savedTo ? '; click to open its curves' : ''}`,
          }),
        );
      }
    }
    return lenses;
  }

  results(): Record<string, PlanResult> {
    return this.ctx.extension.workspaceState.get<Record<string, PlanResult>>(STATE_KEY, {});
  }

  async record(plan: ProbePlan, outcome: ProbeOutcome): Promise<void> {
    const rows = outcome.table?.filter((r) => r.runs > 0) ?? [];
    if (!rows.length) return;
    const all = { ...this.results(), [plan.key]: { summary: summarizeTable(rows), status: outcome.status, savedTo: outcome.savedTo, at: Date.now() } };
    await this.ctx.extension.workspaceState.update(STATE_KEY, all);
    this.changed.fire();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

/**
 * lossLens.probeFinding: runs a plan through Loss Lens: Probe Training (trust check, one probe at
 * a time, progress, panel), with the probe settings for everything the plan does not fix.
 */
export function probeFinding(lens: ProbeCodeLensProvider) {
  return async (plan: ProbePlan): Promise<ProbeOutcome | undefined> => {
    const overrides: Partial<ProbeConfig> = { losses: plan.losses };
    if (plan.alpha !== undefined) overrides.alpha = plan.alpha;
    // Fashion-MNIST is the settings' data (with the user's folder, if set): only synthetic overrides it.
    if (plan.data === 'synthetic') overrides.data = { ...DEFAULT_DATA.synthetic };
    const outcome = await vscode.commands.executeCommand<ProbeOutcome | undefined>('lossLens.probeTraining', undefined, overrides);
    if (outcome) await lens.record(plan, outcome);
    return outcome;
  };
}
