/**
 * Quick fixes for Loss Lens diagnostics: suppress the code on the line, and "use the CC loss"
 * where the core can rewrite the call safely (it inserts a helper module next to the file, or
 * into the file for an untitled document). The plans come from src/core/lint/fixes.ts; this
 * file only turns them into WorkspaceEdits.
 */
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { ccLossFix, suppressFix, type FixPlan } from '../../core/lint/fixes';
import { ccHelperFor } from '../../core/lint/helpers';
import { RULES } from '../../core/lint/rules';
import { RULE_CODES, type Finding, type RuleCode } from '../../core/lint/types';
import type { Ctx } from '../context';
import { SOURCE, lintFileOf, lintLanguageOf, rangeOf, type LiveDiagnostics } from './diagnostics';

export class LintCodeActionProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(
    private readonly ctx: Ctx,
    private readonly live: LiveDiagnostics,
  ) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const language = lintLanguageOf(doc);
    if (!language) return [];
    if (context.only && !context.only.intersects(vscode.CodeActionKind.QuickFix)) return [];
    const text = doc.getText();
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== SOURCE) continue;
      const finding = this.findingOf(doc, diagnostic);
      if (!finding) continue;
      try {
        actions.push(this.action(doc, suppressFix(text, finding, language), diagnostic));
        // The helper module's name follows the file (ccLoss.ts, or ccLoss.js/.mjs/.cjs for ESM or CommonJS).
        const helper = await ccHelperFor(finding.framework, language, finding.file, text);
        const untitled = doc.uri.scheme !== 'file';
        const helperPath = untitled ? helper.fileName : join(dirname(doc.uri.fsPath), helper.fileName);
        const helperExists = !untitled && (await exists(vscode.Uri.file(helperPath)));
        const cc = await ccLossFix(text, finding, language, { helperPath, helperExists, inFile: untitled });
        if (cc) actions.push(this.action(doc, cc, diagnostic));
      } catch (e) {
        // A fix that cannot be planned is not offered; the diagnostic stays useful.
        this.ctx.log.warn(`Lint: no quick fix for ${finding.code} at line ${finding.line}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return actions;
  }

  /** The published finding behind a diagnostic (diagnostics reach providers as copies, so match by code and range). */
  private findingOf(doc: vscode.TextDocument, d: vscode.Diagnostic): Finding | undefined {
    const code = typeof d.code === 'object' ? String(d.code.value) : String(d.code);
    if (!(RULE_CODES as readonly string[]).includes(code)) return undefined;
    const known = this.live.findings(doc.uri).find((f) => f.code === code && rangeOf(f).isEqual(d.range));
    if (known) return known;
    // From a workspace scan of a file opened since: rebuild the finding from the diagnostic.
    const rule = RULES[code as RuleCode];
    return {
      file: lintFileOf(doc),
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      endLine: d.range.end.line + 1,
      endColumn: d.range.end.character + 1,
      code: rule.code,
      message: d.message,
      framework: rule.framework,
    };
  }

  private action(doc: vscode.TextDocument, plan: FixPlan, diagnostic: vscode.Diagnostic): vscode.CodeAction {
    const action = new vscode.CodeAction(plan.title, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [diagnostic];
    action.isPreferred = false;
    action.edit = toWorkspaceEdit(doc, plan);
    return action;
  }
}

/** A plan's files are the linted file's path (or an untitled document's URI) or paths next to it. */
function uriOf(doc: vscode.TextDocument, file: string): vscode.Uri {
  if (file === lintFileOf(doc)) return doc.uri;
  if (/^[a-z][a-z0-9+.-]+:/i.test(file) && !/^[a-z]:[\\/]/i.test(file)) return vscode.Uri.parse(file);
  return vscode.Uri.file(file);
}

export function toWorkspaceEdit(doc: vscode.TextDocument, plan: FixPlan): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  // Created first, so an import added to the linted file never points at a missing module. The
  // text goes in as an insert, not as createFile's `contents`: those do not survive the
  // executeCodeActionProvider round trip. No ignoreIfExists: a helper written meanwhile must
  // fail the edit rather than get the module prepended to it.
  for (const c of plan.create ?? []) {
    const uri = uriOf(doc, c.file);
    edit.createFile(uri, { overwrite: false });
    edit.insert(uri, new vscode.Position(0, 0), c.content);
  }
  for (const fe of plan.edits) {
    const uri = uriOf(doc, fe.file);
    for (const e of fe.edits) edit.replace(uri, rangeOf(e), e.newText);
  }
  return edit;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
