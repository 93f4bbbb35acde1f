import * as vscode from 'vscode';
import { PREVIEW_VIEW_TYPE } from '../../shared/panelProtocol';
import type { Ctx } from '../context';
import { PanelView } from '../panel/panelView';
import { inspectInto } from './inspectFile';

/**
 * A read-only custom editor for .npy/.npz: the label statistics instead of binary bytes.
 * Contributed with priority "option", so it is offered ("Open With…"), never forced.
 */
/** The open previews (the integration tests read what their pages rendered). */
export const previews = new Set<PanelView>();

export function registerLabelPreview(ctx: Ctx): vscode.Disposable {
  const provider: vscode.CustomReadonlyEditorProvider = {
    openCustomDocument: (uri) => ({ uri, dispose: () => undefined }),
    resolveCustomEditor: async (document, panel) => {
      const view = new PanelView(panel, ctx.extension.extensionUri, ctx.log);
      previews.add(view);
      panel.onDidDispose(() => {
        previews.delete(view);
        view.dispose();
      });
      await inspectInto(ctx, document.uri, view);
    },
  };
  return vscode.window.registerCustomEditorProvider(PREVIEW_VIEW_TYPE, provider, {
    webviewOptions: { retainContextWhenHidden: false },
    supportsMultipleEditorsPerDocument: true,
  });
}
