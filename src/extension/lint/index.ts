/**
 * The editor side of the lint (issue 5): live diagnostics, Scan Workspace, hovers and quick
 * fixes, all over the core engine in src/core/lint.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../context';
import { LintCodeActionProvider } from './codeActions';
import { PROBE_FINDING_COMMAND, ProbeCodeLensProvider, probeFinding } from './codeLens';
import { LINT_LANGUAGE_IDS, LiveDiagnostics } from './diagnostics';
import { LintHoverProvider } from './hover';
import { scanWorkspace } from './scan';
import { LintSettingsCache } from './settings';
import { LintWorkerClient } from './workerClient';

/** What the integration tests see of the lint (LossLensApi.lint). */
export interface LintService {
  live: LiveDiagnostics;
  worker: LintWorkerClient;
  scan: () => Promise<number | undefined>;
  codeLens: ProbeCodeLensProvider;
}

export function registerLint(ctx: Ctx): LintService {
  const collection = vscode.languages.createDiagnosticCollection('loss-lens');
  const settings = new LintSettingsCache(ctx);
  const worker = new LintWorkerClient(join(ctx.extension.extensionPath, 'dist', 'lintWorker.js'));
  const live = new LiveDiagnostics(ctx, collection, settings, worker);
  const scan = scanWorkspace(ctx, settings, live, worker);
  const codeLens = new ProbeCodeLensProvider(ctx, live);
  const selector: vscode.DocumentFilter[] = LINT_LANGUAGE_IDS.flatMap((language) => [
    { language, scheme: 'file' },
    { language, scheme: 'untitled' },
  ]);
  const relint = (): void => {
    settings.clear();
    // Off: scan results of closed files go too, not only the open documents' diagnostics.
    if (!ctx.config.lintEnable) collection.clear();
    live.relintAll();
  };
  const pyprojects = vscode.workspace.createFileSystemWatcher('**/pyproject.toml');
  ctx.push(
    collection,
    { dispose: () => worker.dispose() },
    live,
    vscode.commands.registerCommand('lossLens.scanWorkspace', scan),
    vscode.languages.registerHoverProvider(selector, new LintHoverProvider(ctx, live)),
    vscode.languages.registerCodeActionsProvider(selector, new LintCodeActionProvider(ctx, live), LintCodeActionProvider.metadata),
    codeLens,
    vscode.languages.registerCodeLensProvider(selector, codeLens),
    vscode.commands.registerCommand(PROBE_FINDING_COMMAND, probeFinding(codeLens)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lossLens.lint')) relint();
    }),
    pyprojects,
    pyprojects.onDidCreate(relint),
    pyprojects.onDidChange(relint),
    pyprojects.onDidDelete(relint),
  );
  return { live, worker, scan, codeLens };
}
