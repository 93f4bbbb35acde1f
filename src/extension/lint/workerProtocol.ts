/** Messages between the extension host and the lint worker (dist/lintWorker.js). No `vscode` here. */
import type { LintLanguage, LintOptions, LintResult } from '../../core/lint/types';

/** host → worker: lint this text. */
export interface LintRequest {
  id: number;
  text: string;
  language: LintLanguage;
  file: string;
  options: LintOptions;
}

/** worker → host: the result for request `id`, or why there is none. */
export type LintReply = { id: number; result: LintResult } | { id: number; error: string };
