import * as vscode from 'vscode';
import {
  CcInputError,
  LiteralError,
  analyzeEta,
  formatReport,
  inferInterpretation,
  lambdaToEta,
  parseVectorLiteral,
  type Interpretation,
  type NormalizerReport,
} from '../../core';
import type { Ctx } from '../context';

/** What the command returns (used by the integration tests and other extensions). */
export interface CheckNormalizerResult {
  interpretation: Interpretation;
  reports: NormalizerReport[];
}

const MAX_ROWS = 50;
/**
 * The command runs on the extension host's thread: above this K the O(K²) naive comparison is
 * estimated from a sample of its terms instead of run (a few ms instead of seconds).
 */
const NAIVE_MAX_K_INTERACTIVE = 2000;

/**
 * Loss Lens: Check CC Normalizer. Reads the selection (or the given text) as a vector or a
 * matrix of rows, as probabilities or logits, and reports log C, μ and the naive formula's
 * digits lost in a notification and the Loss Lens log.
 */
export function checkNormalizer(ctx: Ctx) {
  return async (text?: string, interpretation?: Interpretation): Promise<CheckNormalizerResult | undefined> => {
    const editor = vscode.window.activeTextEditor;
    const source = text ?? selectedText(editor);
    if (source === undefined || source.trim() === '') {
      void vscode.window.showWarningMessage(
        'Loss Lens: select a vector such as [0.1, 0.2, 0.7], np.array([...]) or torch.tensor([...]) first.',
      );
      return undefined;
    }
    try {
      const { rows } = parseVectorLiteral(source);
      if (rows.length > MAX_ROWS) {
        throw new LiteralError(`the selection has ${rows.length} rows; check at most ${MAX_ROWS} at a time`, 0);
      }
      const how = interpretation ?? (await chooseInterpretation(ctx, rows[0]));
      if (!how) return undefined;
      const reports = rows.map((row, r) => {
        try {
          const eta = how === 'probabilities' ? lambdaToEta(row) : Float64Array.from(row);
          return analyzeEta(eta, { withMean: true, naiveMaxK: NAIVE_MAX_K_INTERACTIVE });
        } catch (e) {
          throw e instanceof CcInputError && rows.length > 1 ? e.atRow(r) : e;
        }
      });
      show(ctx, how, reports);
      return { interpretation: how, reports };
    } catch (e) {
      if (e instanceof LiteralError || e instanceof CcInputError) {
        const where = e instanceof LiteralError && editor && text === undefined ? positionOf(editor, e.offset) : '';
        ctx.log.warn(`Check CC Normalizer: ${e.message}${where}`);
        void vscode.window.showErrorMessage(`Loss Lens: ${e.message}${where}`);
        return undefined;
      }
      throw e;
    }
  };
}

function selectedText(editor: vscode.TextEditor | undefined): string | undefined {
  if (!editor) return undefined;
  const sel = editor.selection;
  if (!sel.isEmpty) return editor.document.getText(sel);
  return editor.document.lineAt(sel.active.line).text;
}

function positionOf(editor: vscode.TextEditor, offset: number): string {
  const doc = editor.document;
  const start = editor.selection.isEmpty ? doc.offsetAt(doc.lineAt(editor.selection.active.line).range.start) : doc.offsetAt(editor.selection.start);
  const pos = doc.positionAt(start + offset);
  return ` (line ${pos.line + 1}, column ${pos.character + 1})`;
}

async function chooseInterpretation(ctx: Ctx, first: number[]): Promise<Interpretation | undefined> {
  const setting = ctx.config.normalizerInterpretation;
  if (setting === 'probabilities' || setting === 'logits') return setting;
  const inferred = inferInterpretation(first, ctx.config.normalizerSumTolerance);
  if (setting === 'infer') return inferred;
  const items: (vscode.QuickPickItem & { value: Interpretation })[] = [
    { label: 'Probabilities λ', description: 'entries > 0, normalized or not', value: 'probabilities' },
    { label: 'Logits η = log λ', description: 'any real numbers', value: 'logits' },
  ];
  items.sort((a) => (a.value === inferred ? -1 : 1));
  const pick = await vscode.window.showQuickPick(items, { title: 'Loss Lens: read the selection as' });
  return pick?.value;
}

function show(ctx: Ctx, how: Interpretation, reports: NormalizerReport[]): void {
  const heading = how === 'probabilities' ? 'input: probabilities λ' : 'input: logits η = log λ';
  reports.forEach((r, i) => ctx.log.info(`Check CC Normalizer${reports.length > 1 ? `, row ${i + 1}` : ''}\n${formatReport(r, heading)}`));
  const r = reports[0];
  const lost = r.naive.float32.digitsLost.toFixed(1);
  const summary =
    `log C = ${r.logC.toPrecision(10)} (K = ${r.K}, read as ${how}). ` +
    `A naive float32 CC loses ${lost} of 7.2 digits, float64 ${r.naive.float64.digitsLost.toFixed(1)} of 16` +
    (r.nearUniform ? ': near-uniform, the naive normalizer is unreliable here.' : '.') +
    (reports.length > 1 ? ` (${reports.length} rows; all in the log)` : '');
  void vscode.window.showInformationMessage(`Loss Lens: ${summary}`, 'Show Log').then((choice) => {
    if (choice) ctx.log.show(true);
  });
}
