/** What a rule reports before the engine turns it into a Finding (positions, suppression, select). */
import type { Node } from 'web-tree-sitter';
import type { Framework, RuleCode } from './types';

export interface RawFinding {
  /** The flagged call or expression; the finding spans it. */
  node: Node;
  code: RuleCode;
  message: string;
  framework: Framework;
  /** Other nodes whose line may carry the suppression comment (the flagged argument). */
  related?: (Node | undefined)[];
  literalTarget?: number[];
  /** The label-smoothing α the flagged call sets (LL101, LL105, LL111, LL131). */
  smoothing?: number;
}

/** A call's source, shortened for a message: `nn.CrossEntropyLoss(...)`. */
export function callee(call: Node): string {
  const fn = call.childForFieldName('function');
  return `${(fn?.text ?? 'call').replace(/\s+/g, '')}(...)`;
}
