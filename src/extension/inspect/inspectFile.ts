import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { InspectView } from '../../shared/panelProtocol';
import type { Ctx } from '../context';
import type { PanelView } from '../panel/panelView';
import { InspectError, inspectInWorker } from './runWorker';

const TEXT_FORMATS = new Set(['csv', 'tsv', 'jsonl', 'json']);

/**
 * Reads `uri` in the statistics worker with a cancellable progress notification, and shows
 * the result in `view`. Returns what the panel got, or undefined when the file could not be
 * read (the user is told why) or the read was cancelled.
 */
export async function inspectInto(ctx: Ctx, uri: vscode.Uri, view: PanelView): Promise<InspectView | undefined> {
  const file = uri.fsPath;
  const name = basename(file);
  view.post({ type: 'inspect/started', file, name });
  ctx.log.info(`Inspect ${file}`);
  const t0 = Date.now();
  try {
    const run = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Loss Lens: reading ${name}`, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let shown = 0;
        return inspectInWorker(
          ctx.extension.extensionPath,
          file,
          { array: ctx.config.labelsArray },
          { sumTolerance: ctx.config.labelsSumTolerance, maxFlagged: ctx.config.labelsMaxFlaggedRows },
          (fraction) => {
            progress.report({ increment: Math.max(0, 100 * fraction - shown), message: `${Math.round(100 * fraction)}%` });
            shown = 100 * fraction;
            view.post({ type: 'inspect/progress', fraction });
          },
          abort.signal,
        );
      },
    );
    const result: InspectView = {
      file,
      name,
      description: run.info.description,
      hasLines: TEXT_FORMATS.has(run.info.format),
      result: run.result,
    };
    view.post({ type: 'inspect/result', view: result });
    ctx.log.info(`${name}: ${run.result.rows} rows × ${run.result.classes} classes in ${Date.now() - t0} ms; ${run.result.flaggedTotal} flagged`);
    return result;
  } catch (e) {
    const err = e instanceof InspectError ? e : new InspectError(String(e), false, false);
    view.post({ type: 'inspect/failed', file, name, message: err.message });
    if (err.cancelled) {
      ctx.log.info(err.message);
    } else if (err.userError) {
      ctx.log.warn(err.message);
      void vscode.window.showErrorMessage(`Loss Lens: ${err.message}`);
    } else {
      ctx.log.error(err.message);
      void vscode.window.showErrorMessage(`Loss Lens could not inspect ${name}: ${err.message}`);
    }
    return undefined;
  }
}
