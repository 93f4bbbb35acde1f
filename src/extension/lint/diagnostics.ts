/**
 * Live diagnostics for open Python and TS/JS documents: linted on open, on change (debounced),
 * on save, and cleared on close. Small documents lint in-process (the engine is fast and async);
 * big ones go to the lint worker so a long parse never stalls the extension host.
 */
import * as vscode from 'vscode';
import { lintText } from '../../core/lint/engine';
import type { Severity } from '../../core/lint/config';
import type { Finding, LintLanguage, RuleCode } from '../../core/lint/types';
import type { Ctx } from '../context';
import type { LintSettingsCache } from './settings';
import type { LintWorkerClient } from './workerClient';

export const SOURCE = 'Loss Lens';
const DEBOUNCE_MS = 300;
/** Documents with more lines than this are linted in the worker. */
export const WORKER_MIN_LINES = 2000;

const LANGUAGES: Record<string, LintLanguage> = {
  python: 'python',
  typescript: 'typescript',
  typescriptreact: 'tsx',
  javascript: 'javascript',
  // tree-sitter's JavaScript grammar parses JSX.
  javascriptreact: 'javascript',
};
export const LINT_LANGUAGE_IDS = Object.keys(LANGUAGES);
const SCHEMES = new Set(['file', 'untitled']);

export function lintLanguageOf(doc: vscode.TextDocument): LintLanguage | undefined {
  return SCHEMES.has(doc.uri.scheme) ? LANGUAGES[doc.languageId] : undefined;
}

/** The path the engine and the fixes see: the file's path, or the untitled document's URI. */
export function lintFileOf(doc: vscode.TextDocument): string {
  return doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString();
}

export function docsUri(code: RuleCode): vscode.Uri {
  return vscode.Uri.parse(`https://github.com/loss-lens/loss-lens/blob/main/README.md#${code.toLowerCase()}`);
}

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export function rangeOf(f: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn'>): vscode.Range {
  return new vscode.Range(f.line - 1, f.column - 1, f.endLine - 1, f.endColumn - 1);
}

export function toDiagnostic(f: Finding, severity: Partial<Record<RuleCode, Severity>>): vscode.Diagnostic {
  const d = new vscode.Diagnostic(rangeOf(f), f.message, SEVERITY[severity[f.code] ?? 'warning']);
  d.source = SOURCE;
  d.code = { value: f.code, target: docsUri(f.code) };
  return d;
}

interface DocState {
  timer?: ReturnType<typeof setTimeout>;
  running: boolean;
  /** A newer run was asked for while one was running: run again, and drop the stale result. */
  again: boolean;
  findings: Finding[];
}

export class LiveDiagnostics implements vscode.Disposable {
  private readonly states = new Map<string, DocState>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly updated = new vscode.EventEmitter<vscode.Uri>();
  /** A document's findings were published or dropped (the CodeLens follows them). */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly ctx: Ctx,
    readonly collection: vscode.DiagnosticCollection,
    private readonly settings: LintSettingsCache,
    private readonly worker: LintWorkerClient,
  ) {
    const ws = vscode.workspace;
    this.disposables.push(
      ws.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      ws.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.schedule(e.document, DEBOUNCE_MS);
      }),
      ws.onDidSaveTextDocument((d) => this.schedule(d, 0)),
      ws.onDidCloseTextDocument((d) => this.forget(d.uri)),
    );
    this.relintAll();
  }

  /** The findings last published for an open document (hovers and quick fixes read them). */
  findings(uri: vscode.Uri): readonly Finding[] {
    return this.states.get(uri.toString())?.findings ?? [];
  }

  isOpen(uri: vscode.Uri): boolean {
    return this.states.has(uri.toString());
  }

  /** Settings or a pyproject changed: lint every open document again. */
  relintAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!lintLanguageOf(doc)) {
      // A language change (e.g. plaintext → python and back) must not leave stale diagnostics.
      if (this.states.has(doc.uri.toString())) this.forget(doc.uri);
      return;
    }
    const state = this.state(doc.uri);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => void this.run(doc), delay);
  }

  private state(uri: vscode.Uri): DocState {
    const key = uri.toString();
    let s = this.states.get(key);
    if (!s) {
      s = { running: false, again: false, findings: [] };
      this.states.set(key, s);
    }
    return s;
  }

  private forget(uri: vscode.Uri): void {
    const s = this.states.get(uri.toString());
    if (s) clearTimeout(s.timer);
    this.states.delete(uri.toString());
    this.collection.delete(uri);
    this.updated.fire(uri);
  }

  private async run(doc: vscode.TextDocument): Promise<void> {
    const state = this.states.get(doc.uri.toString());
    if (!state) return;
    clearTimeout(state.timer);
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    try {
      do {
        state.again = false;
        const version = doc.version;
        const out = await this.lintDocument(doc);
        // Closed meanwhile, edited meanwhile, or a newer run was asked for: this result is stale.
        if (this.states.get(doc.uri.toString()) !== state || doc.isClosed) return;
        if (state.again || doc.version !== version) continue;
        state.findings = out.findings;
        this.collection.set(doc.uri, out.diagnostics);
        this.updated.fire(doc.uri);
      } while (state.again);
    } catch (e) {
      this.ctx.log.error(`Lint: ${doc.uri.toString(true)}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      state.running = false;
    }
  }

  private async lintDocument(doc: vscode.TextDocument): Promise<{ findings: Finding[]; diagnostics: vscode.Diagnostic[] }> {
    const language = lintLanguageOf(doc);
    if (!language || !this.ctx.config.lintEnable) return { findings: [], diagnostics: [] };
    const file = lintFileOf(doc);
    const settings = await this.settings.forFile(doc.uri.scheme === 'file' ? file : undefined, doc.uri);
    if (settings.excluded) return { findings: [], diagnostics: [] };
    const text = doc.getText();
    const result =
      doc.lineCount > WORKER_MIN_LINES
        ? await this.worker.lint(text, language, file, settings.options)
        : await lintText(text, language, file, settings.options);
    // A file that does not parse keeps no diagnostics: precision over recall, as in the CLI.
    if (result.parseError) this.ctx.log.debug(`Lint: ${doc.uri.toString(true)} not linted: ${result.parseError}`);
    return { findings: result.findings, diagnostics: result.findings.map((f) => toDiagnostic(f, settings.severity)) };
  }

  dispose(): void {
    this.updated.dispose();
    for (const s of this.states.values()) clearTimeout(s.timer);
    this.states.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
