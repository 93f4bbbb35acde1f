/**
 * Loss Lens: Scan Workspace. Lints every Python and TS/JS file of the workspace folders (as the
 * CLI walks them) with a cancellable progress notification; findings of files that are not open
 * go into the same diagnostic collection (open ones keep their live, possibly unsaved, results).
 */
import { availableParallelism } from 'node:os';
import * as vscode from 'vscode';
import { LintCancelled, collectFiles, displayPath, lintFiles, type FileResult } from '../../core/lint/files';
import type { Ctx } from '../context';
import { toDiagnostic, type LiveDiagnostics } from './diagnostics';
import type { FileSettings, LintSettingsCache } from './settings';
import { LintWorkerPool, type LintWorkerClient } from './workerClient';

export interface ScanSummary {
  findings: number;
  files: number;
  scanned: number;
  unparseable: string[];
}

/**
 * Files are read here and linted off the extension host's main thread: in the lint worker, or for
 * 50 files and more in a pool of 2 to 4 of them (leaving a CPU to the editor where there are
 * more than 2), started for the scan.
 */
export function scanWorkspace(ctx: Ctx, settings: LintSettingsCache, live: LiveDiagnostics, worker: LintWorkerClient) {
  return async (): Promise<number | undefined> => {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    if (!folders.length) {
      void vscode.window.showWarningMessage('Loss Lens: open a folder to scan.');
      return undefined;
    }
    if (!ctx.config.lintEnable) {
      void vscode.window.showWarningMessage('Loss Lens: linting is off (lossLens.lint.enable).');
      return undefined;
    }
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Loss Lens: scanning', cancellable: true },
        (progress, token) => scan(settings, live, worker, folders, progress, token),
      );
      report(ctx, summary);
      return summary.findings;
    } catch (e) {
      if (e instanceof LintCancelled) {
        ctx.log.info('Scan Workspace: cancelled');
        void vscode.window.showInformationMessage('Loss Lens: scan cancelled.');
        return undefined;
      }
      const message = e instanceof Error ? e.message : String(e);
      ctx.log.error(`Scan Workspace: ${message}`);
      void vscode.window.showErrorMessage(`Loss Lens: the scan failed: ${message}`);
      return undefined;
    }
  };
}

async function scan(
  settings: LintSettingsCache,
  live: LiveDiagnostics,
  worker: LintWorkerClient,
  folders: readonly vscode.WorkspaceFolder[],
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  token: vscode.CancellationToken,
): Promise<ScanSummary> {
  const abort = new AbortController();
  const sub = token.onCancellationRequested(() => abort.abort());
  try {
    progress.report({ message: 'listing files…' });
    const files: string[] = [];
    for (const folder of folders) {
      const root = await settings.forFile(undefined, folder.uri);
      // The folder's own excludes prune the walk; each file's nearest pyproject is checked below.
      files.push(...(await collectFiles([folder.uri.fsPath], { exclude: root.exclude, signal: abort.signal })));
    }
    const kept: string[] = [];
    const perFile = new Map<string, FileSettings>();
    for (const f of files) {
      const s = await settings.forFile(f);
      if (s.excluded) continue;
      perFile.set(f, s);
      kept.push(f);
    }
    let reported = 0;
    const jobs = kept.length >= 50 ? Math.min(4, Math.max(2, availableParallelism() - 1)) : 1;
    const pool = jobs > 1 ? new LintWorkerPool(worker.workerPath, jobs) : undefined;
    let results: FileResult[];
    try {
      results = await lintFiles(kept, {
        signal: abort.signal,
        optionsFor: (f) => perFile.get(f)?.options ?? {},
        lint: pool?.lint ?? ((text, language, file, options) => worker.lint(text, language, file, options ?? {})),
        concurrency: Math.max(1, jobs),
        onProgress: (done, total) => {
          const pct = total ? (100 * done) / total : 100;
          progress.report({ message: `${done}/${total} files`, increment: pct - reported });
          reported = pct;
        },
      });
    } finally {
      pool?.dispose();
    }
    const summary: ScanSummary = { findings: 0, files: 0, scanned: results.length, unparseable: [] };
    const cwd = folders[0].uri.fsPath;
    for (const r of results) {
      const uri = vscode.Uri.file(r.file);
      if (r.parseError || r.error) {
        summary.unparseable.push(`${displayPath(r.file, cwd)}: ${r.parseError ?? r.error}`);
      }
      if (r.findings.length) {
        summary.findings += r.findings.length;
        summary.files++;
      }
      if (!live.isOpen(uri)) {
        const severity = perFile.get(r.file)?.severity ?? {};
        live.collection.set(uri, r.findings.map((f) => toDiagnostic(f, severity)));
      }
    }
    return summary;
  } finally {
    sub.dispose();
  }
}

function report(ctx: Ctx, s: ScanSummary): void {
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  ctx.log.info(`Scan Workspace: ${plural(s.findings, 'finding')} in ${plural(s.files, 'file')} (${plural(s.scanned, 'file')} scanned)`);
  for (const u of s.unparseable) ctx.log.warn(`Scan Workspace: not linted: ${u}`);
  const skipped = s.unparseable.length ? `; ${plural(s.unparseable.length, 'file')} could not be parsed (listed in the log)` : '';
  const text = `Loss Lens: ${plural(s.findings, 'finding')} in ${plural(s.files, 'file')}${skipped}.`;
  void vscode.window.showInformationMessage(text, ...(s.unparseable.length ? ['Show Log'] : [])).then((choice) => {
    if (choice) ctx.log.show(true);
  });
}
