import * as vscode from 'vscode';
import { PANEL_VIEW_TYPE, type InspectView } from '../../shared/panelProtocol';
import type { Ctx } from '../context';
import { PanelView } from './panelView';

/**
 * The single Loss Lens panel: created on first use, revealed after; restored with its last
 * view when VS Code restarts (the serializer) and when it is hidden and shown (the page's
 * own state).
 */
export class LossLensPanel {
  private static current: LossLensPanel | undefined;

  private constructor(readonly view: PanelView) {
    view.panel.onDidDispose(() => {
      view.dispose();
      if (LossLensPanel.current === this) LossLensPanel.current = undefined;
    });
  }

  static get instance(): LossLensPanel | undefined {
    return LossLensPanel.current;
  }

  static show(ctx: Ctx): LossLensPanel {
    if (LossLensPanel.current) {
      LossLensPanel.current.view.panel.reveal(undefined, true);
      return LossLensPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Loss Lens', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {});
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icon.svg');
    LossLensPanel.current = new LossLensPanel(new PanelView(panel, ctx.extension.extensionUri, ctx.log));
    return LossLensPanel.current;
  }

  static registerSerializer(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel: vscode.WebviewPanel, state: unknown) => {
        const view = new PanelView(panel, ctx.extension.extensionUri, ctx.log);
        const saved = (state as { view?: InspectView } | undefined)?.view;
        if (saved) view.post({ type: 'inspect/result', view: saved });
        LossLensPanel.current = new LossLensPanel(view);
        return Promise.resolve();
      },
    });
  }
}
