/**
 * The hover on a flagged call: the rule's summary and explanation (why cross-entropy on simplex
 * targets is not a normalized likelihood, what CC offers, the near-uniform hazard), a link to the
 * docs, and for a literal target the normalizer check the Check CC Normalizer command runs.
 */
import * as vscode from 'vscode';
import { CcInputError, analyzeEta, inferInterpretation, lambdaToEta } from '../../core';
import { RULES } from '../../core/lint/rules';
import type { Finding } from '../../core/lint/types';
import type { Ctx } from '../context';
import { docsUri, rangeOf, type LiveDiagnostics } from './diagnostics';

/** Literal rows are short; a long one gets the cheap sampled estimate, as the command does. */
const NAIVE_MAX_K = 2000;

export class LintHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly ctx: Ctx,
    private readonly live: LiveDiagnostics,
  ) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const hits = this.live.findings(doc.uri).filter((f) => rangeOf(f).contains(pos));
    if (!hits.length) return undefined;
    const parts = hits.map((f) => this.markdown(f));
    return new vscode.Hover(parts, hits.map(rangeOf).reduce((a, b) => a.union(b)));
  }

  private markdown(f: Finding): vscode.MarkdownString {
    const rule = RULES[f.code];
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**Loss Lens ${f.code}**: ${rule.summary}\n\n`);
    md.appendMarkdown(`${rule.explanation}\n\n`);
    if (f.literalTarget) md.appendMarkdown(`${this.normalizerCheck(f.literalTarget)}\n\n`);
    md.appendMarkdown(`[${f.code} in the Loss Lens documentation](${docsUri(f.code).toString(true)})`);
    return md;
  }

  /** The literal as probabilities when it is on the simplex, else as logits (the command's `infer`). */
  private normalizerCheck(row: number[]): string {
    const how = inferInterpretation(row, this.ctx.config.normalizerSumTolerance);
    try {
      const eta = how === 'probabilities' ? lambdaToEta(row) : Float64Array.from(row);
      const r = analyzeEta(eta, { withMean: false, naiveMaxK: NAIVE_MAX_K });
      const shown = row.length > 8 ? `[${row.slice(0, 8).join(', ')}, …]` : `[${row.join(', ')}]`;
      const lines = [
        `**Normalizer check** of the literal target \`${shown}\` (read as ${how}):`,
        `- log C = ${r.logC.toPrecision(10)} (K = ${r.K})`,
        `- a naive float32 CC loses ${r.naive.float32.digitsLost.toFixed(1)} of 7.2 digits, float64 ${r.naive.float64.digitsLost.toFixed(1)} of 16`,
      ];
      if (r.nearUniform) lines.push('- **near-uniform**: the naive normalizer is unreliable here; use the stable helper.');
      return lines.join('\n');
    } catch (e) {
      // A zero probability (a one-hot row) or a non-finite entry has no CC normalizer to show.
      if (e instanceof CcInputError) return `**Normalizer check** of the literal target: not computed (${e.message}).`;
      throw e;
    }
  }
}
