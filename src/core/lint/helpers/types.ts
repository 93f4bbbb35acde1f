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

/**
 * The paragraph every Python helper's module docstring gives on how it stays stable (the three
 * run the same two positive series). Plain text without backticks, '${' or backslashes, so the
 * String.raw sources can take it as is.
 */
export const PY_SERIES_DOC = `Stability: the textbook formula exp[z] = sum_k e^{z_k} / prod_{j != k} (z_k - z_j) is not
used: it cancels catastrophically for close logits and divides by zero for equal ones, and
every network starts out there. With c = min z and x = z - c >= 0 this evaluates two series
of non-negative terms (no subtraction anywhere, so exactly uniform logits are exact):

    exp[z] = e^c / (K-1)! * S,   S = sum_m t_m,   t_m = G_m[K-1],
    G_0 = 1,  G_m = cumsum(x * G_{m-1}) / (m + K - 1)
    mu = W / S,  W = sum_m V_m,  V_0 = 1/K,  V_m = (t_m + x * V_{m-1}) / (m + K)

(V is the same series with node x_j repeated: mu_j = exp[z, z_j] / exp[z].)`;
