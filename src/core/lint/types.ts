/**
 * Lint: cross-entropy on soft targets, in Python and TS/JS code (issue 5). The types every part
 * shares: the engine (lintText), the CLI (`loss-lens lint`), the editor (diagnostics, hovers,
 * quick fixes). No `vscode` here.
 */

/** Stable rule codes; each is documented in the README and in RULES (rules.ts). */
export const RULE_CODES = ['LL101', 'LL102', 'LL103', 'LL104', 'LL105', 'LL111', 'LL112', 'LL113', 'LL121', 'LL131'] as const;
export type RuleCode = (typeof RULE_CODES)[number];

export type LintLanguage = 'python' | 'typescript' | 'tsx' | 'javascript';

export type Framework = 'pytorch' | 'keras' | 'optax' | 'tfjs';

export interface TextEdit {
  /** 1-based line and column (UTF-16 code units, as VS Code counts), end exclusive. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

export interface Finding {
  file: string;
  /** 1-based, the start of the flagged call (or expression). */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  code: RuleCode;
  message: string;
  framework: Framework;
  /**
   * A literal target vector found at the call (e.g. `torch.tensor([0.1, 0.9])`), for the hover's
   * normalizer check; absent when the target is not a literal.
   */
  literalTarget?: number[];
  /**
   * The label-smoothing α the flagged call sets (given or the library's default), for rules about
   * smoothing (LL101, LL105, LL111, LL131): the CodeLens probes that α.
   */
  smoothing?: number;
}

export interface LintOptions {
  /** Codes or prefixes ("LL1", "LL10") to report; default all. */
  select?: string[];
  /** Codes or prefixes to drop; applied after select. */
  ignore?: string[];
}

export interface LintResult {
  findings: Finding[];
  /** The file could not be parsed (reported and skipped, never fatal). */
  parseError?: string;
}

export interface RuleInfo {
  code: RuleCode;
  framework: Framework;
  /** One line: what is flagged. */
  summary: string;
  /** Markdown: why it matters, what CC offers, when it is fine to suppress. */
  explanation: string;
}
