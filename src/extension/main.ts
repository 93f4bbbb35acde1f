import * as vscode from 'vscode';
import { checkNormalizer } from './commands/checkNormalizer';
import { inspectLabels } from './commands/inspectLabels';
import { openProbeRun } from './commands/openProbeRun';
import { cancelProbe, probeTraining, showProbe } from './commands/probeTraining';
import { ProbeSession } from './probe/probeSession';
import { previews, registerLabelPreview } from './inspect/labelPreview';
import { LossLensPanel } from './panel/lossLensPanel';
import type { PanelView } from './panel/panelView';
import { Ctx } from './context';
import { registerLint, type LintService } from './lint';

type Factory = (ctx: Ctx) => (...args: never[]) => unknown;

/** Every command, registered from one table: `lossLens.<name>`. */
const COMMANDS: Record<string, Factory> = {
  checkNormalizer,
  inspectLabels,
  probeTraining,
  cancelProbe,
  showProbe,
  openProbeRun,
  showLog: (ctx) => () => ctx.log.show(),
};

let ctx: Ctx | undefined;

/** The API the extension returns: its context, and the panel (for the integration tests). */
export interface LossLensApi {
  ctx: Ctx;
  panel: () => LossLensPanel | undefined;
  previews: () => PanelView[];
  /** The running probe, if any. */
  probe: () => ProbeSession | undefined;
  /** Diagnostics, worker and scan of the lint (issue 5). */
  lint: () => LintService;
}

export function activate(extension: vscode.ExtensionContext): LossLensApi {
  try {
    ctx = new Ctx(extension);
    extension.subscriptions.push(ctx);
    for (const [name, factory] of Object.entries(COMMANDS)) {
      ctx.push(vscode.commands.registerCommand(`lossLens.${name}`, factory(ctx)));
    }
    const { version } = extension.extension.packageJSON as { version: string };
    ctx.push(LossLensPanel.registerSerializer(ctx), registerLabelPreview(ctx));
    const lint = registerLint(ctx);
    ctx.log.info(`Loss Lens ${version} activated`);
    return { ctx, panel: () => LossLensPanel.instance, previews: () => [...previews], probe: () => ProbeSession.running, lint: () => lint };
  } catch (e) {
    void vscode.window.showErrorMessage(`Loss Lens failed to activate: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
