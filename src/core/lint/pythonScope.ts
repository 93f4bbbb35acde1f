/**
 * Python name resolution for the lint rules: import aliases, and the simple local assignments of a
 * function (or module) scope. Deliberately shallow: a name resolves only through assignments the
 * rules can read; anything else (parameters, loop variables, attributes of other objects) stays
 * unknown, and unknown never produces a finding.
 */
import type { Node } from 'web-tree-sitter';
import { canonical } from './pythonNames';

export interface Binding {
  /** The assigned expression; undefined for an opaque binding (parameter, loop target, `with … as`). */
  value?: Node;
  /** Position in a tuple unpacking (`x, y = mixup_fn(x, y)` binds y with index 1). */
  index?: number;
  at: number;
}

/**
 * Nested source intervals (nodes in document order, each either inside or disjoint from the ones
 * before it) answering "the innermost one strictly around this node" by binary search and a walk
 * up the enclosing chain, without touching the tree.
 */
class Intervals {
  private readonly start: number[] = [];
  private readonly end: number[] = [];
  private readonly up: number[] = [];
  constructor(private readonly nodes: Node[]) {
    const stack: number[] = [];
    nodes.forEach((n, i) => {
      this.start.push(n.startIndex);
      this.end.push(n.endIndex);
      while (stack.length && this.end[stack[stack.length - 1]] < n.endIndex) stack.pop();
      this.up.push(stack.length ? stack[stack.length - 1] : -1);
      stack.push(i);
    });
  }

  around(n: Node): Node | undefined {
    const s = n.startIndex;
    const e = n.endIndex;
    let lo = 0;
    let hi = this.start.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.start[mid] <= s) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (; i >= 0; i = this.up[i]) {
      if (this.start[i] <= s && e <= this.end[i] && !(this.start[i] === s && this.end[i] === e && this.nodes[i].id === n.id)) return this.nodes[i];
    }
    return undefined;
  }
}

export function unwrap(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression' || cur.type === 'await') {
    const inner = cur.namedChildren.find((c) => c !== null && c.type !== 'comment');
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

export class PyScope {
  private readonly imports = new Map<string, string>();
  private readonly wildcards: string[] = [];
  /** scope node id → name → bindings in source order. */
  private readonly locals = new Map<number, Map<string, Binding[]>>();
  /** class node id → attribute → `self.attr = value` bindings. */
  private readonly attrs = new Map<number, Map<string, Binding[]>>();

  /** function/lambda scopes and class bodies as intervals in document order (see Intervals). */
  private readonly scopes: Intervals;
  private readonly classes: Intervals;
  /** Every name bound anywhere in the file (a cheap first test before a lookup). */
  private readonly boundNames = new Set<string>();
  /** The calls of the file, in document order (collected in the same pass). */
  readonly calls: Node[] = [];

  constructor(readonly root: Node) {
    // One pass in the parser's own code (descendantsOfType runs inside the wasm module) for every
    // kind of node the scope needs; then no parent walks: `Node.parent` is found by descending
    // from the root each time, which made scope lookups the largest cost of a lint.
    const nodes = root.descendantsOfType([
      'import_statement',
      'import_from_statement',
      'assignment',
      'for_statement',
      'with_item',
      'for_in_clause',
      'function_definition',
      'lambda',
      'class_definition',
      'call',
    ]);
    const scopes: Node[] = [];
    const classes: Node[] = [];
    for (const n of nodes) {
      if (!n) continue;
      if (n.type === 'function_definition' || n.type === 'lambda') scopes.push(n);
      else if (n.type === 'class_definition') classes.push(n);
    }
    this.scopes = new Intervals(scopes);
    this.classes = new Intervals(classes);
    for (const n of nodes) {
      if (!n) continue;
      switch (n.type) {
        case 'import_statement':
        case 'import_from_statement':
          this.addImport(n);
          break;
        case 'function_definition':
          this.addParameters(n);
          break;
        case 'call':
          this.calls.push(n);
          break;
        case 'lambda':
        case 'class_definition':
          break;
        default:
          this.addBinding(n);
      }
    }
  }

  private addImport(st: Node): void {
    if (st.type === 'import_statement') {
      for (const n of st.namedChildren) {
        if (!n) continue;
        if (n.type === 'aliased_import') {
          const name = n.childForFieldName('name')?.text;
          const alias = n.childForFieldName('alias')?.text;
          if (name && alias) this.imports.set(alias, name);
        } else if (n.type === 'dotted_name') {
          // `import torch.nn` binds `torch`; attribute access then walks the rest.
          const head = n.text.split('.')[0];
          this.imports.set(head, head);
        }
      }
      return;
    }
    const mod = st.childForFieldName('module_name');
    if (!mod || mod.type === 'relative_import') return;
    for (const n of st.namedChildren) {
      if (!n || n.id === mod.id) continue;
      if (n.type === 'wildcard_import') this.wildcards.push(mod.text);
      else if (n.type === 'aliased_import') {
        const name = n.childForFieldName('name')?.text;
        const alias = n.childForFieldName('alias')?.text;
        if (name && alias) this.imports.set(alias, `${mod.text}.${name}`);
      } else if (n.type === 'dotted_name') this.imports.set(n.text, `${mod.text}.${n.text}`);
    }
  }

  private push(map: Map<number, Map<string, Binding[]>>, key: number, name: string, b: Binding): void {
    this.boundNames.add(name);
    let m = map.get(key);
    if (!m) map.set(key, (m = new Map<string, Binding[]>()));
    const list = m.get(name);
    if (list) list.push(b);
    else m.set(name, [b]);
  }

  private bindTarget(target: Node, value: Node | undefined, at: number, index?: number): void {
    const t = unwrap(target);
    if (t.type === 'identifier') {
      this.push(this.locals, this.scopeOf(t).id, t.text, { value, index, at });
    } else if (t.type === 'attribute' && t.childForFieldName('object')?.text === 'self') {
      const cls = this.classOf(t);
      const attr = t.childForFieldName('attribute')?.text;
      if (cls && attr) this.push(this.attrs, cls.id, attr, { value, index, at });
    } else if (t.type === 'pattern_list' || t.type === 'tuple_pattern' || t.type === 'list_pattern') {
      const parts = t.namedChildren.filter((c): c is Node => c !== null);
      const v = value ? unwrap(value) : undefined;
      const elems = v && (v.type === 'expression_list' || v.type === 'tuple') ? v.namedChildren.filter((c): c is Node => c !== null) : undefined;
      parts.forEach((p, i) => {
        if (elems && elems.length === parts.length) this.bindTarget(p, elems[i], at);
        else this.bindTarget(p, value, at, value ? i : undefined);
      });
    }
  }

  private addBinding(a: Node): void {
    if (a.type === 'assignment') {
      const left = a.childForFieldName('left');
      const right = a.childForFieldName('right');
      // `a = b = value` nests: the right of the outer assignment is another assignment.
      if (left) this.bindTarget(left, right?.type === 'assignment' ? right.childForFieldName('right') ?? undefined : right ?? undefined, a.endIndex);
    } else if (a.type === 'for_statement' || a.type === 'for_in_clause') {
      const left = a.childForFieldName('left');
      if (left) this.bindTarget(left, undefined, a.startIndex);
    } else if (a.type === 'with_item') {
      const v = a.childForFieldName('value');
      if (v?.type === 'as_pattern') {
        const alias = v.childForFieldName('alias') ?? v.namedChildren.find((c) => c?.type === 'as_pattern_target');
        const target = alias?.namedChildren[0] ?? alias;
        if (target) this.bindTarget(target, undefined, a.startIndex);
      }
    }
  }

  private addParameters(f: Node): void {
    const params = f.childForFieldName('parameters');
    const body = f.childForFieldName('body');
    if (!params || !body) return;
    for (const p of params.namedChildren) {
      if (!p) continue;
      const id = p.type === 'identifier' ? p : (p.childForFieldName('name') ?? p.namedChildren.find((c) => c?.type === 'identifier'));
      if (id?.type === 'identifier') this.push(this.locals, f.id, id.text, { at: f.startIndex });
    }
  }

  /** The innermost function or lambda strictly around n, else the module. */
  scopeOf(n: Node): Node {
    return this.scopes.around(n) ?? this.root;
  }

  private classOf(n: Node): Node | undefined {
    return this.classes.around(n);
  }

  /** Whether a name is imported or bound anywhere in the file (else it can resolve to nothing). */
  mayResolve(name: string): boolean {
    return this.boundNames.has(name) || this.imports.has(name) || this.wildcards.length > 0;
  }

  /** The binding of `name` visible at `at`: the last assignment before it in the innermost scope that assigns it. */
  lookup(name: string, at: Node): Binding | undefined {
    for (let scope: Node | undefined = this.scopeOf(at); scope; scope = scope.id === this.root.id ? undefined : this.scopeOf(scope)) {
      const list = this.locals.get(scope.id)?.get(name);
      if (!list) continue;
      const before = list.filter((b) => b.at <= at.startIndex);
      // An outer scope's name may be assigned after the function that uses it is defined.
      return before.at(-1) ?? (scope.id === this.scopeOf(at).id ? undefined : list.at(-1));
    }
    return undefined;
  }

  /** `self.attr` inside a class: the attribute's single assignment (or several with the same text). */
  selfAttr(attr: Node): Binding | undefined {
    const cls = this.classOf(attr);
    const name = attr.childForFieldName('attribute')?.text;
    const list = cls && name ? this.attrs.get(cls.id)?.get(name) : undefined;
    if (!list || list.some((b) => !b.value || b.value.text !== list[0].value?.text || b.index !== list[0].index)) return undefined;
    return list[0];
  }

  /** The binding an expression refers to: a local name or `self.attr`. */
  bindingOf(expr: Node): Binding | undefined {
    const e = unwrap(expr);
    if (e.type === 'identifier') return this.lookup(e.text, e);
    if (e.type === 'attribute' && e.childForFieldName('object')?.text === 'self') return this.selfAttr(e);
    return undefined;
  }

  /** The canonical fully qualified name an expression denotes (`F.cross_entropy` → torch.nn.functional.cross_entropy). */
  qname(expr: Node, depth = 0): string | undefined {
    const raw = this.rawName(unwrap(expr), depth);
    return raw === undefined ? undefined : canonical(raw);
  }

  private rawName(e: Node, depth: number): string | undefined {
    if (depth > 8) return undefined;
    if (e.type === 'identifier') {
      const b = this.lookup(e.text, e);
      if (b) {
        // `loss_fn = F.cross_entropy` aliases a function; any other local value is not a name.
        const v = b.value && b.index === undefined ? unwrap(b.value) : undefined;
        return v && (v.type === 'identifier' || v.type === 'attribute') ? this.rawName(v, depth + 1) : undefined;
      }
      const imp = this.imports.get(e.text);
      if (imp) return imp;
      // `from timm.loss import *`: only names the rules know are ever compared, so guess the first module.
      return this.wildcards.length === 1 ? `${this.wildcards[0]}.${e.text}` : undefined;
    }
    if (e.type === 'attribute') {
      const obj = e.childForFieldName('object');
      const attr = e.childForFieldName('attribute');
      const base = obj ? this.rawName(unwrap(obj), depth + 1) : undefined;
      return base && attr ? `${base}.${attr.text}` : undefined;
    }
    return undefined;
  }

  /** A number literal, or a name bound to one (`LS = 0.1`). */
  numberValue(expr: Node, depth = 0): number | undefined {
    const e = unwrap(expr);
    if (e.type === 'integer' || e.type === 'float') {
      const v = Number(e.text.replace(/_/g, ''));
      return Number.isFinite(v) ? v : undefined;
    }
    if (e.type === 'unary_operator' && e.childForFieldName('operator')?.type === '-') {
      const arg = e.childForFieldName('argument');
      const v = arg ? this.numberValue(arg, depth + 1) : undefined;
      return v === undefined ? undefined : -v;
    }
    if (depth < 4 && (e.type === 'identifier' || e.type === 'attribute')) {
      const b = this.bindingOf(e);
      return b?.value && b.index === undefined ? this.numberValue(b.value, depth + 1) : undefined;
    }
    return undefined;
  }

  /** A string literal's content, or a name bound to one. */
  stringValue(expr: Node, depth = 0): string | undefined {
    const e = unwrap(expr);
    if (e.type === 'string') {
      const content = e.namedChildren.filter((c) => c?.type === 'string_content');
      return content.length <= 1 && !e.namedChildren.some((c) => c?.type === 'interpolation') ? (content[0]?.text ?? '') : undefined;
    }
    if (depth < 4 && e.type === 'identifier') {
      const b = this.bindingOf(e);
      return b?.value && b.index === undefined ? this.stringValue(b.value, depth + 1) : undefined;
    }
    return undefined;
  }
}
