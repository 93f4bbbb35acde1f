/**
 * The two source transforms that derive the JavaScript CC helpers from the one TypeScript source
 * (src/core/lint/helpers/tfjs.ts), so that no second copy is written by hand:
 *
 * - stripTypes: TypeScript → JavaScript by deletion only, on the tree-sitter TypeScript tree.
 *   Erased: type annotations (parameters, return types, variables), `as` / `satisfies` tails,
 *   non-null `!`, type arguments and parameters, `?` of optional parameters, `type` aliases and
 *   interfaces (with their `export`), `import type` / `export type`. Any other TypeScript-only
 *   construct (enum, namespace, decorators, accessibility modifiers, `implements`, abstract
 *   classes, overloads, `declare`, `<T>x` assertions, `import x = require()`…) throws: those have
 *   a runtime meaning that deletion would lose, so a later edit of the helper fails loudly here
 *   instead of shipping broken JavaScript. The result is checked with the JavaScript grammar.
 * - toCommonJs: ESM → CommonJS for the helper's module syntax (namespace and named imports,
 *   exported declarations); anything else throws.
 *
 * No `vscode` here.
 */
import type { Node } from 'web-tree-sitter';
import { parserFor } from './parser';

/** Erased where they stand, inside a line. */
const ERASED = new Set([
  'type_annotation',
  'opting_type_annotation',
  'omitting_type_annotation',
  'adding_type_annotation',
  'asserts_annotation',
  'type_predicate_annotation',
  'type_arguments',
  'type_parameters',
]);

/** Declarations that exist only for the checker: erased with their line(s) (and an `export` around them). */
const TYPE_DECLARATIONS = new Set(['type_alias_declaration', 'interface_declaration']);

/** TypeScript-only node kinds that are plain JavaScript once the types inside them are gone. */
const KEPT = new Set(['required_parameter', 'optional_parameter', 'extends_clause', 'instantiation_expression', 'public_field_definition', 'type_identifier']);

/** JavaScript node kinds whose TypeScript meaning is not plain JavaScript. */
const REFUSED_SHARED = new Set(['decorator']);

/** Class-field modifiers with no JavaScript counterpart (`readonly x`, `declare x`, `x?: T`, `x!: T`). */
const FIELD_MODIFIERS = new Set(['readonly', 'declare', 'abstract', '?', '!']);

let jsNodeKinds: Promise<Set<string>> | undefined;

/** Every named node kind of the JavaScript grammar: a TypeScript node kind outside this set is TypeScript-only. */
function javascriptKinds(): Promise<Set<string>> {
  jsNodeKinds ??= parserFor('javascript').then((p) => {
    const lang = p.language!;
    const kinds = new Set<string>();
    for (let id = 0; id < lang.nodeTypeCount; id++) {
      const name = lang.nodeTypeForId(id);
      if (name && lang.nodeTypeIsNamed(id)) kinds.add(name);
    }
    return kinds;
  });
  return jsNodeKinds;
}

function where(n: Node): string {
  return `line ${n.startPosition.row + 1}, column ${n.startPosition.column + 1}: ${JSON.stringify(n.text.split('\n')[0].slice(0, 60))}`;
}

function token(n: Node, type: string): Node | undefined {
  return n.children.find((c) => c !== null && !c.isNamed && c.type === type) ?? undefined;
}

/** The first ERROR or MISSING node under `n`. */
function firstError(n: Node): Node | undefined {
  if (n.type === 'ERROR' || n.isMissing) return n;
  if (!n.hasError) return undefined;
  for (const c of n.children) {
    const e = c && firstError(c);
    if (e) return e;
  }
  return undefined;
}

interface Cut {
  start: number;
  end: number;
  text?: string;
  /** A deletion of whole lines: a blank line on both sides of it afterwards is one too many. */
  lines?: boolean;
}

/**
 * Applies cuts (deletions, or replacements with `text`) to `src`; overlapping deletions merge.
 * Where whole lines went and left blank lines on both sides (or a blank first line), one goes.
 */
function applyCuts(src: string, cuts: Cut[]): string {
  const sorted = [...cuts].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let at = 0;
  const seams: number[] = [];
  for (const c of sorted) {
    if (c.start < at) {
      if (c.text !== undefined) throw new Error('stripTypes: overlapping edits');
      at = Math.max(at, c.end);
      continue;
    }
    out += src.slice(at, c.start) + (c.text ?? '');
    if (c.lines && seams[seams.length - 1] !== out.length) seams.push(out.length);
    at = c.end;
  }
  out += src.slice(at);
  for (const p of seams.reverse()) {
    const next = /^[ \t\r]*\n/.exec(out.slice(p));
    if (next && (p === 0 || /(?:^|\n)[ \t\r]*\n$/.test(out.slice(0, p)))) out = out.slice(0, p) + out.slice(p + next[0].length);
  }
  return out;
}

const IDENT_CHAR = /[\w$]/;

/** A deletion inside a line; the blanks before it go too (`x : T` → `x`), unless that would join two words. */
function inlineCut(src: string, start: number, end: number): Cut {
  let s = start;
  while (s > 0 && (src[s - 1] === ' ' || src[s - 1] === '\t')) s--;
  const lineStart = s === 0 || src[s - 1] === '\n' || src[s - 1] === '\r';
  if (lineStart || (end < src.length && IDENT_CHAR.test(src[end]) && IDENT_CHAR.test(src[s - 1]))) s = start;
  return { start: s, end };
}

/** A deletion of a whole statement: its lines when it has them to itself, else inline. */
function statementCut(src: string, n: Node): Cut {
  const lineStart = src.lastIndexOf('\n', n.startIndex - 1) + 1;
  let lineEnd = src.indexOf('\n', n.endIndex);
  if (lineEnd < 0) lineEnd = src.length;
  if (src.slice(lineStart, n.startIndex).trim() !== '' || src.slice(n.endIndex, lineEnd).trim() !== '') return inlineCut(src, n.startIndex, n.endIndex);
  return { start: lineStart, end: Math.min(lineEnd + 1, src.length), lines: true };
}

/** TypeScript source → JavaScript with the same runtime behaviour, by deleting the types (see the header). */
export async function stripTypes(ts: string): Promise<string> {
  const [parser, jsKinds] = await Promise.all([parserFor('typescript'), javascriptKinds()]);
  const tree = parser.parse(ts);
  if (!tree) throw new Error('stripTypes: the TypeScript parser returned no tree');
  const cuts: Cut[] = [];
  try {
    const bad = firstError(tree.rootNode);
    if (bad) throw new Error(`stripTypes: the TypeScript source has a syntax error at ${where(bad)}`);
    const refuse = (n: Node, what = n.type): never => {
      throw new Error(`stripTypes: TypeScript-only syntax (${what}) that the type stripper does not handle, at ${where(n)}`);
    };
    const walk = (n: Node): void => {
      if (ERASED.has(n.type)) {
        cuts.push(inlineCut(ts, n.startIndex, n.endIndex));
        return;
      }
      if (TYPE_DECLARATIONS.has(n.type)) {
        cuts.push(statementCut(ts, n.parent?.type === 'export_statement' ? n.parent : n));
        return;
      }
      if ((n.type === 'import_statement' || n.type === 'export_statement') && token(n, 'type')) {
        cuts.push(statementCut(ts, n));
        return;
      }
      if (n.type === 'export_statement' && token(n, '=')) refuse(n, 'export =');
      if ((n.type === 'import_specifier' || n.type === 'export_specifier') && token(n, 'type')) refuse(n, 'inline type specifier');
      if (n.type === 'as_expression' || n.type === 'satisfies_expression' || n.type === 'non_null_expression') {
        const e = n.namedChildren[0];
        if (!e) return refuse(n);
        walk(e);
        cuts.push(inlineCut(ts, e.endIndex, n.endIndex));
        return;
      }
      if (n.type === 'optional_parameter' || n.type === 'variable_declarator') {
        // `x?: T` → `x`; `let x!: T` → `let x`.
        const mark = token(n, n.type === 'optional_parameter' ? '?' : '!');
        if (mark) cuts.push({ start: mark.startIndex, end: mark.endIndex });
      }
      if (n.type === 'required_parameter' && n.childForFieldName('pattern')?.type === 'this') refuse(n, 'this parameter');
      if (n.type === 'public_field_definition') {
        const mod = n.children.find((c) => c !== null && !c.isNamed && FIELD_MODIFIERS.has(c.type));
        if (mod) refuse(n, `field modifier ${mod.type}`);
      }
      if (REFUSED_SHARED.has(n.type) || (n.isNamed && !jsKinds.has(n.type) && !KEPT.has(n.type))) refuse(n);
      for (const c of n.children) if (c) walk(c);
    };
    walk(tree.rootNode);
  } finally {
    tree.delete();
  }
  const js = applyCuts(ts, cuts);
  await assertJavaScript(js, 'stripTypes');
  return js;
}

/** Throws unless `js` parses with the JavaScript grammar without ERROR or MISSING nodes. */
export async function assertJavaScript(js: string, who: string): Promise<void> {
  const tree = (await parserFor('javascript')).parse(js);
  if (!tree) throw new Error(`${who}: the JavaScript parser returned no tree`);
  try {
    const bad = firstError(tree.rootNode);
    if (bad) throw new Error(`${who}: the JavaScript output does not parse, at ${where(bad)}`);
  } finally {
    tree.delete();
  }
}

function stringValue(n: Node | null | undefined): string | undefined {
  if (n?.type !== 'string') return undefined;
  return n.namedChildren.find((c) => c?.type === 'string_fragment')?.text ?? '';
}

/**
 * ESM → CommonJS for a module such as the CC helper: `import * as ns from 'm'` →
 * `const ns = require('m');`, `import { a, b as c } from 'm'` → `const { a, b: c } = require('m');`,
 * `import 'm'` → `require('m');`, `export function f` / `export const x` / `export class C` →
 * the declaration alone and one `module.exports = { … };` at the end. Default imports and
 * exports, re-exports, export lists and `import.meta` throw.
 */
export async function toCommonJs(esm: string): Promise<string> {
  const tree = (await parserFor('javascript')).parse(esm);
  if (!tree) throw new Error('toCommonJs: the JavaScript parser returned no tree');
  const cuts: Cut[] = [];
  const exported: string[] = [];
  try {
    const root = tree.rootNode;
    const bad = firstError(root);
    if (bad) throw new Error(`toCommonJs: the source has a syntax error at ${where(bad)}`);
    const refuse = (n: Node, what: string): never => {
      throw new Error(`toCommonJs: ${what} is not converted, at ${where(n)}`);
    };
    for (const m of root.descendantsOfType('meta_property')) if (m) refuse(m, 'import.meta');
    for (const st of root.namedChildren) {
      if (!st) continue;
      if (st.type === 'import_statement') {
        const source = stringValue(st.childForFieldName('source'));
        if (source === undefined) return refuse(st, 'this import');
        const spec = /^[^'\\\n]*$/.test(source) ? `'${source}'` : JSON.stringify(source);
        const clause = st.namedChildren.find((c) => c?.type === 'import_clause');
        const parts = clause?.namedChildren.filter((c): c is Node => c !== null) ?? [];
        let text: string;
        if (!clause) text = `require(${spec});`;
        else if (parts.length === 1 && parts[0].type === 'namespace_import') {
          const id = parts[0].namedChildren.find((c) => c?.type === 'identifier');
          if (!id) return refuse(st, 'this import');
          text = `const ${id.text} = require(${spec});`;
        } else if (parts.length === 1 && parts[0].type === 'named_imports') {
          const names = parts[0].namedChildren
            .filter((c): c is Node => c?.type === 'import_specifier')
            .map((s) => {
              const name = s.childForFieldName('name');
              const alias = s.childForFieldName('alias');
              if (name?.type !== 'identifier') return refuse(s, 'a string import name');
              return alias ? `${name.text}: ${alias.text}` : name.text;
            });
          text = `const { ${names.join(', ')} } = require(${spec});`;
        } else return refuse(st, 'a default import');
        cuts.push({ start: st.startIndex, end: st.endIndex, text });
      } else if (st.type === 'export_statement') {
        const decl = st.childForFieldName('declaration');
        if (!decl || token(st, 'default')) return refuse(st, 'this export');
        if (decl.type === 'function_declaration' || decl.type === 'generator_function_declaration' || decl.type === 'class_declaration') {
          const name = decl.childForFieldName('name');
          if (!name) return refuse(st, 'an anonymous export');
          exported.push(name.text);
        } else if (decl.type === 'lexical_declaration' || decl.type === 'variable_declaration') {
          for (const d of decl.namedChildren) {
            if (d?.type !== 'variable_declarator') continue;
            const name = d.childForFieldName('name');
            if (name?.type !== 'identifier') return refuse(st, 'a destructured export');
            exported.push(name.text);
          }
        } else return refuse(st, 'this export');
        cuts.push({ start: st.startIndex, end: decl.startIndex });
      }
    }
  } finally {
    tree.delete();
  }
  let cjs = applyCuts(esm, cuts);
  if (exported.length > 0) cjs = `${cjs.replace(/\n*$/, '\n')}\nmodule.exports = { ${exported.join(', ')} };\n`;
  await assertJavaScript(cjs, 'toCommonJs');
  return cjs;
}
