/**
 * What a Python target expression is, as far as the local code shows: a probability vector
 * (softmax output, smoothed labels, a mixup, a convex combination, a literal soft row), known
 * one-hot, or unknown. Also: call arguments by position/keyword, and which constructor call a
 * callee such as `criterion` or `self.criterion` is an instance of.
 */
import type { Node } from 'web-tree-sitter';
import { classifyLiteral, literalRows } from './literal';
import { EXP, EYE, LOG_SOFTMAX, MIXUP, MODULE_METHODS, ONE_HOT, PASS_METHODS, SOFTMAX, STOP_GRADIENT, TENSOR_CTORS } from './pythonNames';
import { type PyScope, unwrap } from './pythonScope';

export interface SoftTarget {
  kind: 'softmax' | 'smoothed' | 'mixup' | 'combination' | 'literal';
  /** Where the soft values come from, for the message: "softmax(...) on line 12". */
  what: string;
  /** A literal row that is not one-hot (kind 'literal'). */
  row?: number[];
}

const MAX_DEPTH = 8;

function line(n: Node): number {
  return n.startPosition.row + 1;
}

export class PyTargets {
  constructor(readonly scope: PyScope) {}

  /** The argument at `index` or keyword `name`; undefined when absent or hidden behind `*args`. */
  arg(call: Node, index: number, name?: string): Node | undefined {
    const list = call.childForFieldName('arguments');
    if (!list) return undefined;
    let pos = 0;
    let splat = false;
    for (const a of list.namedChildren) {
      if (!a || a.type === 'comment') continue;
      if (a.type === 'keyword_argument') {
        if (name !== undefined && a.childForFieldName('name')?.text === name) return a.childForFieldName('value') ?? undefined;
      } else if (a.type === 'list_splat' || a.type === 'dictionary_splat') {
        splat = true;
      } else {
        if (pos === index && !splat) return a;
        pos++;
      }
    }
    return undefined;
  }

  /** The name of the method a call invokes (`x.softmax(1)` → softmax), when its callee is an attribute. */
  method(call: Node): { name: string; object: Node } | undefined {
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'attribute') return undefined;
    const obj = fn.childForFieldName('object');
    const name = fn.childForFieldName('attribute')?.text;
    return obj && name ? { name, object: obj } : undefined;
  }

  // Every rule asks for the callee of every call; resolving it once per call halves the lint time.
  private readonly names = new Map<number, string | undefined>();

  calleeName(call: Node): string | undefined {
    if (this.names.has(call.id)) return this.names.get(call.id);
    const fn = call.childForFieldName('function');
    const name = fn ? this.scope.qname(fn) : undefined;
    this.names.set(call.id, name);
    return name;
  }

  /**
   * The constructor call a callee is an instance of: `nn.CrossEntropyLoss()(x, y)`, `criterion`
   * or `self.criterion` assigned from `nn.CrossEntropyLoss(...)` (through `.to(device)` and the like).
   */
  instanceOf(callee: Node, depth = 0): Node | undefined {
    if (depth > MAX_DEPTH) return undefined;
    let e = unwrap(callee);
    if (e.type === 'identifier' || e.type === 'attribute') {
      const b = this.scope.bindingOf(e);
      if (!b?.value || b.index !== undefined) return undefined;
      e = unwrap(b.value);
      if (e.type === 'conditional_expression') {
        // `Mixup(...) if args.mixup else None`: the call site only runs when the instance exists.
        const branches = e.namedChildren.filter((c): c is Node => c !== null && c.type !== 'none');
        const calls = [branches[0], branches[2]].filter((c): c is Node => c?.type === 'call');
        if (calls.length === 0) return undefined;
        e = calls[0];
      }
      if (e.type === 'identifier' || e.type === 'attribute') return this.instanceOf(e, depth + 1);
    }
    while (e.type === 'call') {
      const m = this.method(e);
      if (m && MODULE_METHODS.has(m.name) && unwrap(m.object).type === 'call') e = unwrap(m.object);
      else return e;
    }
    return undefined;
  }

  /** The canonical name of the class a callee instantiates (see instanceOf). */
  instanceClass(callee: Node): { cls: string; ctor: Node } | undefined {
    // Three rules ask about the same callee; resolve it once.
    if (this.instances.has(callee.id)) return this.instances.get(callee.id);
    const ctor = this.instanceOf(callee);
    const cls = ctor ? this.calleeName(ctor) : undefined;
    const out = ctor && cls ? { cls, ctor } : undefined;
    this.instances.set(callee.id, out);
    return out;
  }

  private readonly instances = new Map<number, { cls: string; ctor: Node } | undefined>();

  isSoftmaxCall(call: Node): boolean {
    const name = this.calleeName(call);
    if (name) return SOFTMAX.has(name);
    // `logits.softmax(-1)` or `self.softmax(x)` on something that is not a module.
    return this.method(call)?.name === 'softmax';
  }

  isLogSoftmaxCall(call: Node): boolean {
    const name = this.calleeName(call);
    if (name) return LOG_SOFTMAX.has(name);
    return this.method(call)?.name === 'log_softmax';
  }

  soft(expr: Node, depth = 0): SoftTarget | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const e = unwrap(expr);
    if (e.type === 'identifier' || e.type === 'attribute') {
      const b = this.scope.bindingOf(e);
      if (!b?.value) return undefined;
      if (b.index !== undefined) return this.softElement(b.value, b.index);
      const inner = this.soft(b.value, depth + 1);
      return inner && e.type === 'identifier' ? { ...inner, what: `\`${e.text}\` = ${inner.what}` } : inner;
    }
    if (e.type === 'binary_operator') return this.combination(e);
    if (e.type === 'list') return this.softLiteral(e);
    if (e.type !== 'call') return undefined;
    const m = this.method(e);
    const name = this.calleeName(e);
    if (m && PASS_METHODS.has(m.name) && !name) return this.soft(m.object, depth + 1);
    if (this.isSoftmaxCall(e)) {
      const x = this.arg(e, 0, 'input') ?? this.arg(e, 0, 'x');
      const tempered = !!x && unwrap(x).type === 'binary_operator' && unwrap(x).childForFieldName('operator')?.type === '/';
      return { kind: 'softmax', what: `${tempered ? 'a tempered ' : ''}softmax(...) on line ${line(e)}` };
    }
    // `F.log_softmax(z, 1).exp()` / `torch.exp(log_probs)` are probabilities as well.
    const expOf = m?.name === 'exp' && !name ? m.object : name && EXP.has(name) ? this.arg(e, 0, 'input') : undefined;
    if (expOf) {
      const inner = unwrap(expOf);
      if (inner.type === 'call' && this.isLogSoftmaxCall(inner)) return { kind: 'softmax', what: `exp(log_softmax(...)) on line ${line(e)}` };
    }
    if (name === 'optax.smooth_labels') return { kind: 'smoothed', what: `optax.smooth_labels(...) on line ${line(e)}` };
    if (name && STOP_GRADIENT.has(name)) {
      const x = this.arg(e, 0);
      return x ? this.soft(x, depth + 1) : undefined;
    }
    if (name && TENSOR_CTORS.has(name)) {
      const data = this.arg(e, 0, 'data');
      return data ? this.softLiteral(unwrap(data)) : undefined;
    }
    return undefined;
  }

  /** Element `index` of a tuple-valued call: the targets a mixup returns. */
  private softElement(value: Node, index: number): SoftTarget | undefined {
    const v = unwrap(value);
    if (v.type !== 'call' || index !== 1) return undefined;
    const fn = v.childForFieldName('function');
    const inst = fn ? this.instanceClass(fn) : undefined;
    if (inst && MIXUP.has(inst.cls)) return { kind: 'mixup', what: `the mixed targets of ${inst.cls.split('.').pop()} (line ${line(v)})` };
    return undefined;
  }

  /**
   * `lam * y1 + (1 - lam) * y2` (mixup) and `y * (1 - eps) + eps / K` (label smoothing): a sum in
   * which one term carries a factor `(1 - X)` and the other mentions X.
   */
  private combination(e: Node): SoftTarget | undefined {
    if (e.childForFieldName('operator')?.type !== '+') return undefined;
    const left = e.childForFieldName('left');
    const right = e.childForFieldName('right');
    if (!left || !right) return undefined;
    for (const [a, b] of [[left, right], [right, left]]) {
      const x = this.complementFactor(unwrap(a));
      if (x && b.descendantsOfType(['identifier', 'attribute', 'float', 'integer']).some((n) => n?.text === x)) {
        return { kind: 'combination', what: `the convex combination \`${e.text.replace(/\s+/g, ' ')}\` (line ${line(e)})` };
      }
    }
    return undefined;
  }

  /** X when the product has a factor `(1 - X)`. */
  private complementFactor(term: Node): string | undefined {
    if (term.type !== 'binary_operator' || term.childForFieldName('operator')?.type !== '*') return undefined;
    for (const side of ['left', 'right']) {
      const f = term.childForFieldName(side);
      if (!f) continue;
      const u = unwrap(f);
      if (u.type === 'binary_operator' && u.childForFieldName('operator')?.type === '*') {
        const inner = this.complementFactor(u);
        if (inner) return inner;
      }
      if (f.type !== 'parenthesized_expression' || u.type !== 'binary_operator' || u.childForFieldName('operator')?.type !== '-') continue;
      const one = u.childForFieldName('left');
      const x = u.childForFieldName('right');
      if (one && x && Number(one.text) === 1) return unwrap(x).text;
    }
    return undefined;
  }

  private softLiteral(list: Node): SoftTarget | undefined {
    const lit = literalRows(list);
    if (!lit) return undefined;
    const c = classifyLiteral(lit);
    return c.kind === 'soft' && c.row ? { kind: 'literal', what: `the literal row [${c.row.join(', ')}]`, row: c.row } : undefined;
  }

  /** The literal vector a target argument is written as, for the hover's normalizer check. */
  literalTarget(expr: Node): number[] | undefined {
    let e = unwrap(expr);
    if (e.type === 'call') {
      const name = this.calleeName(e);
      const data = name && TENSOR_CTORS.has(name) ? this.arg(e, 0, 'data') : undefined;
      if (!data) return undefined;
      e = unwrap(data);
    }
    const lit = literalRows(e);
    if (!lit) return undefined;
    const c = classifyLiteral(lit);
    return c.kind === 'indices' ? undefined : (c.row ?? lit.rows[0]);
  }

  /** Known to hold one-hot rows: `F.one_hot(y, K)`, `torch.eye(K)[y]`, a literal one-hot matrix. */
  oneHot(expr: Node, depth = 0): boolean {
    if (depth > MAX_DEPTH) return false;
    const e = unwrap(expr);
    if (e.type === 'identifier' || e.type === 'attribute') {
      const b = this.scope.bindingOf(e);
      return !!b?.value && b.index === undefined && this.oneHot(b.value, depth + 1);
    }
    if (e.type === 'subscript') {
      const v = e.childForFieldName('value');
      const base = v ? unwrap(v) : undefined;
      return base?.type === 'call' && EYE.has(this.calleeName(base) ?? '');
    }
    if (e.type === 'list') {
      const lit = literalRows(e);
      return !!lit && classifyLiteral(lit).kind === 'one-hot';
    }
    if (e.type !== 'call') return false;
    const name = this.calleeName(e);
    if (name && ONE_HOT.has(name)) return true;
    const m = this.method(e);
    if (m && PASS_METHODS.has(m.name) && !name) return this.oneHot(m.object, depth + 1);
    if (name && TENSOR_CTORS.has(name)) {
      const data = this.arg(e, 0, 'data');
      const lit = data ? literalRows(unwrap(data)) : undefined;
      return !!lit && classifyLiteral(lit).kind === 'one-hot';
    }
    return false;
  }
}
