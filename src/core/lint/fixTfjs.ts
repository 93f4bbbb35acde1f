/**
 * LL131's "use the CC loss" rewrite (TypeScript and JavaScript):
 * tf.losses.softmaxCrossEntropy(labels, logits, weights, α[, reduction]) →
 * ccNll(logits, <labels smoothed by α>, reduction).
 *
 * tfjs smooths inside the loss as labels·(1 − α) + α / labels.shape[1]
 * (ops/losses/softmax_cross_entropy.js); the rewrite writes the same expression at the call, so
 * the CC loss sees exactly the target the user's cross-entropy trained on. Safe only when:
 * - weights is absent, `undefined` or `null` (ccNll has no weights);
 * - reduction is absent or `<ns>.Reduction.{NONE,SUM,MEAN,SUM_BY_NONZERO_WEIGHTS}` (without
 *   weights the last two are both the mean over rows);
 * - labels is a name or a member chain (`batch.ys`): it is read twice (values and shape), which
 *   would run a call twice;
 * - the file imports the tfjs namespace (`import * as tf`, or `require`): the smoothing is written
 *   with tf.add / tf.mul, since tfjs-core alone registers no chained ops (`labels.mul`).
 */
import type { Node } from 'web-tree-sitter';
import type { CcRewrite, Reduction } from './fixPython';

const TFJS = /^@tensorflow\/tfjs(-core|-node|-node-gpu)?$/;

function stringContent(n: Node | null | undefined): string | undefined {
  if (n?.type !== 'string') return undefined;
  return n.namedChildren.find((c) => c?.type === 'string_fragment')?.text ?? '';
}

/**
 * The tfjs namespace the file imports whole (`import * as tf from '@tensorflow/tfjs-core'`, or
 * `const tf = require('@tensorflow/tfjs-node')`): its local name and the package.
 */
export function tfjsImport(root: Node): { name: string; pkg: string } | undefined {
  for (const imp of root.descendantsOfType('import_statement')) {
    const pkg = stringContent(imp?.childForFieldName('source'));
    if (!imp || !pkg || !TFJS.test(pkg)) continue;
    for (const ns of imp.descendantsOfType('namespace_import')) {
      const id = ns?.namedChildren.find((c) => c?.type === 'identifier');
      if (id) return { name: id.text, pkg };
    }
  }
  for (const d of root.descendantsOfType('variable_declarator')) {
    const value = d?.childForFieldName('value');
    const name = d?.childForFieldName('name');
    if (value?.type !== 'call_expression' || value.childForFieldName('function')?.text !== 'require' || name?.type !== 'identifier') continue;
    const pkg = stringContent(value.childForFieldName('arguments')?.namedChildren[0]);
    if (pkg && TFJS.test(pkg)) return { name: name.text, pkg };
  }
  return undefined;
}

/** The local name of the tfjs namespace, when the file imports it whole. */
export function tfjsNamespace(root: Node): string | undefined {
  return tfjsImport(root)?.name;
}

function plainRef(n: Node): boolean {
  if (n.type === 'identifier' || n.type === 'this') return true;
  if (n.type !== 'member_expression') return false;
  const obj = n.childForFieldName('object');
  return !!obj && n.childForFieldName('property')?.type === 'property_identifier' && plainRef(obj);
}

const REDUCTIONS: Record<string, Reduction> = { NONE: 'none', SUM: 'sum', MEAN: 'mean', SUM_BY_NONZERO_WEIGHTS: 'mean' };

export function rewriteLl131(call: Node, root: Node): CcRewrite | undefined {
  if (call.type !== 'call_expression') return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a !== null && a.type !== 'comment') ?? [];
  const [labels, logits, weights, alpha, reduction] = args;
  if (args.length > 5 || !labels || !logits || !alpha || args.some((a) => a.type === 'spread_element')) return undefined;
  if (weights && weights.type !== 'undefined' && weights.type !== 'null' && weights.text !== 'undefined') return undefined;
  let red: Reduction = 'mean';
  if (reduction) {
    const m = /^(?:[A-Za-z_$][\w$]*\.)?Reduction\.([A-Z_]+)$/.exec(reduction.text.replace(/\s+/g, ''));
    const r = m ? REDUCTIONS[m[1]] : undefined;
    if (!r) return undefined;
    red = r;
  }
  const tf = tfjsNamespace(root);
  if (!tf || !plainRef(labels)) return undefined;
  // The rule checked that α is a positive number (literal or const); keep it as written.
  const a = alpha.type === 'number' || alpha.type === 'identifier' ? alpha.text : `(${alpha.text})`;
  // Number(): tf.Tensor's shape type admits rank 0, where [1] is possibly undefined for the checker.
  const target = `${tf}.add(${tf}.mul(${labels.text}, 1 - ${a}), ${a} / Number(${labels.text}.shape[1]))`;
  return { logits: logits.text, target, reduction: red };
}
