/**
 * The CC-loss helpers that the "use the CC loss" quick fix inserts (issue 5), one per
 * framework. No `vscode` here: the CLI and the tests use them too.
 */
import { parserFor } from '../parser';
import type { Framework, LintLanguage } from '../types';
import { KERAS_HELPER } from './keras';
import { OPTAX_HELPER } from './optax';
import { PYTORCH_HELPER } from './pytorch';
import { TFJS_HELPER } from './tfjs';
import { tfjsHelperFor } from './tfjsVariants';
import type { CcHelper } from './types';

export type { CcHelper } from './types';
export { jsModuleKind, tfjsHelperFor, tfjsHelperJs, type JsModuleKind } from './tfjsVariants';

export const CC_HELPERS: Record<Framework, CcHelper> = {
  pytorch: PYTORCH_HELPER,
  keras: KERAS_HELPER,
  optax: OPTAX_HELPER,
  tfjs: TFJS_HELPER,
};

/**
 * The helper that the "use the CC loss" fix writes for a file of `language` at `file` (a path or
 * an untitled document's URI) with text `text`: CC_HELPERS[framework], except for tfjs, whose
 * helper follows the file (ccLoss.ts, or ccLoss.js / .mjs / .cjs as ESM or CommonJS, importing
 * the file's tfjs package). The editor names the helper module after its fileName.
 */
export async function ccHelperFor(framework: Framework, language: LintLanguage, file: string, text: string): Promise<CcHelper> {
  if (framework !== 'tfjs' || language === 'python') return CC_HELPERS[framework];
  const tree = (await parserFor(language)).parse(text);
  if (!tree) return CC_HELPERS[framework];
  try {
    return await tfjsHelperFor(language, file, tree.rootNode);
  } finally {
    tree.delete();
  }
}

/** A rewritten call: the helper's callTemplate with its placeholders filled in. */
export function renderCcCall(helper: CcHelper, args: { logits: string; target: string; reduction: string }): string {
  return helper.callTemplate.replace(/\{(logits|target|reduction)\}/g, (_m, key: 'logits' | 'target' | 'reduction') => args[key]);
}
