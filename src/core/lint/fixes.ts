/**
 * Quick fixes for lint findings (issue 5), as plain edit plans that the editor turns into a
 * WorkspaceEdit and the tests apply to strings. No `vscode` here.
 *
 * "Use the CC loss" is offered only where the rewrite is known to compute the CC counterpart of
 * exactly what the flagged code computed; everything else gets undefined (precision over recall):
 *
 * | rule  | form                                                        | rewrite                                   |
 * |-------|-------------------------------------------------------------|-------------------------------------------|
 * | LL102 | F.cross_entropy(z, t[, reduction='…'])                      | cc_nll(z, t[, reduction='…'])             |
 * | LL102 | crit(z, t), crit = nn.CrossEntropyLoss([reduction='…'])     | cc_nll(z, t[, reduction='…']) (call only) |
 * | LL104 | -(t * log_softmax(z, d)).sum(d)[.mean()/.sum()] and kin     | cc_nll(z, t, reduction=none/mean/sum)     |
 * | LL112 | tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=z) | cc_nll(z, t, reduction="none")            |
 * | LL121 | optax.softmax_cross_entropy(z, t)                           | cc_nll(z, t, reduction="none")            |
 * | LL131 | tf.losses.softmaxCrossEntropy(t, z[, undefined, α[, R]])    | ccNll(z, tf.add(tf.mul(t, 1 - α), α / Number(t.shape[1]))[, r]) |
 *
 * LL131's helper follows the file (helpers/tfjsVariants.ts): ccLoss.ts for TypeScript; for
 * JavaScript the same source type-stripped, as an ES module (ccLoss.mjs for .mjs, ccLoss.js for a
 * .js file with import/export; imported with its extension, as Node's ESM loader needs) or as
 * CommonJS (ccLoss.cjs for .cjs, ccLoss.js for a .js file without; `const { ccNll } = require(…)`),
 * importing the tfjs package the file imports.
 *
 * Refused, whatever the form: LL101, LL111, LL105 (the smoothed target needs K, which the call
 * does not show, and for LL101/LL105 the flagged node is often the loss's constructor, whose
 * call sites may be many); LL103 / LL113 (KL distillation: kl_div takes log-probabilities, often
 * tempered and rescaled by T², so there is no logits argument to hand over); files with syntax
 * errors; a helper name already bound to something else in the file; a module-level call above
 * the place the import (or require) or helper would go. The per-rule conditions are in
 * fixPython.ts, fixHandWritten.ts and fixTfjs.ts.
 */
import { extname } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { rewriteLl104 } from './fixHandWritten';
import { helperState, importFor, inFileSource, insertRow, insideFunction } from './fixInsert';
import { type CcRewrite, rewriteLl102, rewriteLl112, rewriteLl121 } from './fixPython';
import { rewriteLl131, tfjsNamespace } from './fixTfjs';
import { CC_HELPERS, type CcHelper, renderCcCall, tfjsHelperFor } from './helpers';
import { parserFor } from './parser';
import { PyScope } from './pythonScope';
import { PyTargets } from './pythonTargets';
import type { Finding, LintLanguage, TextEdit } from './types';

export interface FileEdits {
  file: string;
  edits: TextEdit[];
}

export interface FixPlan {
  /** Shown in the quick-fix menu. */
  title: string;
  kind: 'suppress' | 'cc-loss';
  /** Edits to existing files (the linted file at least). */
  edits: FileEdits[];
  /** New files (the helper module); the caller skips one that exists. */
  create?: { file: string; content: string }[];
}

export interface CcFixOptions {
  /**
   * Absolute path of the helper module to create (e.g. <dir of file>/cc_loss.py or ccLoss.ts);
   * its extension must be that of ccHelperFor(…).fileName for the file (ccLoss.mjs for an .mjs file).
   */
  helperPath: string;
  helperExists: boolean;
  /** Put the helper in the linted file instead of a module. */
  inFile?: boolean;
}

/** The index where a line comment starts on a code line (-1: none), skipping string literals. */
function commentStart(line: string, python: boolean): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (line.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      }
      continue;
    }
    if (python && c === '#') return i;
    if (!python && c === '/' && line[i + 1] === '/') return i;
    if (!python && c === '/' && line[i + 1] === '*') {
      const end = line.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '"' || c === "'" || (!python && c === '`')) {
      quote = python && line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    }
  }
  return -1;
}

export function suppressFix(text: string, finding: Finding, language: LintLanguage): FixPlan {
  const python = language === 'python';
  const title = `Suppress ${finding.code} on this line`;
  const raw = text.split('\n')[finding.line - 1] ?? '';
  const cr = raw.endsWith('\r') ? 1 : 0;
  const line = raw.slice(0, raw.length - cr);
  const at = commentStart(line, python);
  const comment = at >= 0 ? line.slice(at) : '';
  const plan = (edits: TextEdit[]): FixPlan => ({ title, kind: 'suppress', edits: [{ file: finding.file, edits }] });
  // An existing list (`# noqa: E501, F401` / `// loss-lens-ignore LL131`): add the code to it.
  const list = python ? /#\s*noqa:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*/i.exec(comment) : /loss-lens-ignore[:\s]+[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*/.exec(comment);
  if (list) {
    if (new RegExp(`\\b${finding.code}\\b`).test(list[0])) return plan([]);
    const col = at + list.index + list[0].length + 1;
    return plan([{ line: finding.line, column: col, endLine: finding.line, endColumn: col, newText: `, ${finding.code}` }]);
  }
  // Otherwise a new comment at the end of the line (after any other comment: the engine finds it there).
  const trimmed = line.replace(/[ \t]+$/, '');
  const newText = python ? `  # noqa: ${finding.code}` : `  // loss-lens-ignore ${finding.code}`;
  return plan([{ line: finding.line, column: trimmed.length + 1, endLine: finding.line, endColumn: line.length + 1, newText }]);
}

/** The node whose range is exactly the finding's. */
function nodeAt(root: Node, f: Finding): Node | undefined {
  const n = root.descendantForPosition({ row: f.line - 1, column: f.column - 1 }, { row: f.endLine - 1, column: f.endColumn - 1 });
  const same = (x: Node) =>
    x.startPosition.row === f.line - 1 && x.startPosition.column === f.column - 1 && x.endPosition.row === f.endLine - 1 && x.endPosition.column === f.endColumn - 1;
  return n && same(n) ? n : undefined;
}

function rewrite(code: Finding['code'], node: Node, root: Node, python: boolean): CcRewrite | undefined {
  if (!python) return code === 'LL131' ? rewriteLl131(node, root) : undefined;
  const t = new PyTargets(new PyScope(root));
  if (code === 'LL102') return rewriteLl102(node, t);
  if (code === 'LL104') return rewriteLl104(node, t);
  if (code === 'LL112') return rewriteLl112(node, t);
  if (code === 'LL121') return rewriteLl121(node, t);
  return undefined;
}

function callText(helper: CcHelper, rw: CcRewrite, python: boolean): string {
  // An explicit reduction is kept as written; the default ('mean') is left out, as users write it.
  const red = rw.reductionText ?? (rw.reduction === 'mean' ? undefined : python ? `"${rw.reduction}"` : `'${rw.reduction}'`);
  const template = red === undefined ? helper.callTemplate.replace(/,\s*(?:reduction=)?\{reduction\}/, '') : helper.callTemplate;
  let call = renderCcCall({ ...helper, callTemplate: template }, { logits: rw.logits, target: rw.target, reduction: red ?? '' });
  // PyTorch's helper takes the class axis (ccLossFix refuses another axis for the other helpers).
  if (rw.dim !== undefined) call = `${call.slice(0, -1)}, dim=${rw.dim})`;
  return call + (rw.suffix ?? '');
}

/** An insertion before 0-based `row`, or at the very end when the file has no such line. */
function insertAt(lines: string[], row: number, body: string, eol: string): TextEdit {
  if (row < lines.length) return { line: row + 1, column: 1, endLine: row + 1, endColumn: 1, newText: body + eol };
  const last = lines.length;
  const col = lines[last - 1].length + 1;
  return { line: last, column: col, endLine: last, endColumn: col, newText: eol + body };
}

export async function ccLossFix(text: string, finding: Finding, language: LintLanguage, opts: CcFixOptions): Promise<FixPlan | undefined> {
  const python = language === 'python';
  // The tfjs helper needs a TS/JS file, the Python helpers a Python file.
  if ((finding.framework === 'tfjs') === python) return undefined;
  const parser = await parserFor(language);
  const tree = parser.parse(text);
  if (!tree) return undefined;
  try {
    const root = tree.rootNode;
    // A file with syntax errors may be misread around the call, and the result must still parse.
    if (root.hasError) return undefined;
    const node = nodeAt(root, finding);
    const rw = node ? rewrite(finding.code, node, root, python) : undefined;
    if (!node || !rw) return undefined;
    const helper = python ? CC_HELPERS[finding.framework] : await tfjsHelperFor(language, finding.file, root);
    // Only the PyTorch helper takes a class axis; the others reduce over the last one.
    if (rw.dim !== undefined && helper.framework !== 'pytorch') return undefined;
    if (!opts.inFile && extname(opts.helperPath) !== extname(helper.fileName)) {
      throw new Error(`ccLossFix: the helper for ${finding.file} is ${helper.fileName}, not ${opts.helperPath}`);
    }
    const imp = importFor(helper, finding.file, opts.helperPath, python);
    if (!opts.inFile && !imp) return undefined;
    const state = helperState(root, helper.functionName, imp?.module);
    if (state === 'conflict') return undefined;
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
    const row = insertRow(root, python);
    const edits: TextEdit[] = [];
    const create: { file: string; content: string }[] = [];
    let title: string;
    if (state === 'defined' || state === 'imported') {
      title = `Use the CC loss (${helper.functionName}, already in reach)`;
    } else if (opts.inFile) {
      const src = inFileSource(helper, text, python, python ? undefined : tfjsNamespace(root));
      if (src === undefined) return undefined;
      edits.push(insertAt(lines, row, eol + src.replace(/\n/g, eol) + eol, eol));
      title = `Use the CC loss (insert ${helper.functionName} into this file)`;
    } else {
      edits.push(insertAt(lines, row, imp!.line, eol));
      if (!opts.helperExists) create.push({ file: opts.helperPath, content: helper.source });
      title = `Use the CC loss (${helper.functionName} from ${opts.helperPath.split(/[\\/]/).pop() ?? helper.fileName})`;
    }
    // A module-level call above the insertion would run before its import or definition.
    if (edits.length > 0 && node.startPosition.row < row && !insideFunction(node)) return undefined;
    edits.push({ line: finding.line, column: finding.column, endLine: finding.endLine, endColumn: finding.endColumn, newText: callText(helper, rw, python) });
    const plan: FixPlan = { title, kind: 'cc-loss', edits: [{ file: finding.file, edits }] };
    if (create.length) plan.create = create;
    return plan;
  } finally {
    tree.delete();
  }
}
