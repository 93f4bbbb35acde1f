import * as vscode from 'vscode';
import { LABEL_EXTENSIONS } from '../../core/labels/open';
import type { InspectView } from '../../shared/panelProtocol';
import type { Ctx } from '../context';
import { inspectInto } from '../inspect/inspectFile';
import { LossLensPanel } from '../panel/lossLensPanel';

/**
 * Loss Lens: Inspect Label Distribution. From the explorer or editor context menu (the file
 * clicked), the palette (the active editor's file, else a file picker). Shows the statistics
 * in the Loss Lens panel and returns them.
 */
export function inspectLabels(ctx: Ctx) {
  return async (uri?: vscode.Uri): Promise<InspectView | undefined> => {
    const target = uri instanceof vscode.Uri ? uri : await pickFile();
    if (!target) return undefined;
    if (target.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Loss Lens reads soft labels from files on disk; ${target.toString()} is not one.`);
      return undefined;
    }
    return inspectInto(ctx, target, LossLensPanel.show(ctx).view);
  };
}

async function pickFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && LABEL_EXTENSIONS.some((e) => active.path.toLowerCase().endsWith(e))) return active;
  const picked = await vscode.window.showOpenDialog({
    title: 'Loss Lens: a file of soft labels',
    canSelectMany: false,
    filters: { 'Soft labels': LABEL_EXTENSIONS.map((e) => e.slice(1)) },
  });
  return picked?.[0];
}
