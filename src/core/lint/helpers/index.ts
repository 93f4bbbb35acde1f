/**
 * The CC-loss helpers that the "use the CC loss" quick fix inserts (issue 5), one per
 * framework. No `vscode` here: the CLI and the tests use them too.
 */
import type { Framework } from '../types';
import { KERAS_HELPER } from './keras';
import { OPTAX_HELPER } from './optax';
import { PYTORCH_HELPER } from './pytorch';
import { TFJS_HELPER } from './tfjs';
import type { CcHelper } from './types';

export type { CcHelper } from './types';

export const CC_HELPERS: Record<Framework, CcHelper> = {
  pytorch: PYTORCH_HELPER,
  keras: KERAS_HELPER,
  optax: OPTAX_HELPER,
  tfjs: TFJS_HELPER,
};

/** A rewritten call: the helper's callTemplate with its placeholders filled in. */
export function renderCcCall(helper: CcHelper, args: { logits: string; target: string; reduction: string }): string {
  return helper.callTemplate.replace(/\{(logits|target|reduction)\}/g, (_m, key: 'logits' | 'target' | 'reduction') => args[key]);
}
