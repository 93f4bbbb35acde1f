import type { Framework } from '../types';

/**
 * A CC-loss helper that the "use the CC loss" quick fix writes into the user's project: a
 * self-contained module (no Loss Lens imports, MIT header) and how to call it.
 */
export interface CcHelper {
  framework: Framework;
  /** The module's import name, e.g. 'cc_loss' (Python) or 'ccLoss' (TS/JS). */
  moduleName: string;
  /** The file to create next to the user's code, e.g. 'cc_loss.py', 'ccLoss.ts', 'ccLoss.mjs'. */
  fileName: string;
  /** The module's full text, ending in a newline. */
  source: string;
  /** The function a rewritten call uses, e.g. 'cc_nll'. */
  functionName: string;
  /**
   * A rewritten call, with placeholders {logits}, {target} and {reduction}; {reduction} takes
   * a string literal of the target language ('mean', 'sum' or 'none', quoted).
   */
  callTemplate: string;
  /** The import to add when the helper goes into a separate module. */
  importLine: string;
  /**
   * How a TS/JS helper module is imported (Python helpers leave it out): 'ts' `import { f } from
   * './m'` (the compiler or bundler finds the file), 'esm' `import { f } from './m.js'` (Node's ESM
   * loader needs the extension), 'cjs' `const { f } = require('./m')` (the extension only where
   * require would not add it, as for .cjs).
   */
  jsModule?: 'ts' | 'esm' | 'cjs';
}
