/**
 * Where the "use the CC loss" fix puts the helper's import (or, in-file, the helper itself), and
 * whether the helper's names are free in the file. Positions are 0-based rows here.
 */
import { dirname, extname, relative, sep } from 'node:path';
import type { Node } from 'web-tree-sitter';
import type { CcHelper } from './helpers';

const PY_IMPORTS = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);

/** `require('m')` or `require('m').x`: a CommonJS import. */
function isRequireCall(n: Node | null | undefined): boolean {
  while (n?.type === 'member_expression') n = n.childForFieldName('object');
  return n?.type === 'call_expression' && n.childForFieldName('function')?.text === 'require' && n.childForFieldName('arguments')?.namedChildren[0]?.type === 'string';
}

/** A top-level `const x = require('m');` / `require('m');`: an import, for CommonJS files. */
function isRequireStatement(st: Node): boolean {
  if (st.type === 'expression_statement') return isRequireCall(st.namedChildren[0]);
  if (st.type !== 'lexical_declaration' && st.type !== 'variable_declaration') return false;
  const decls = st.namedChildren.filter((c): c is Node => c?.type === 'variable_declarator');
  return decls.length > 0 && decls.every((d) => isRequireCall(d.childForFieldName('value')));
}

/**
 * The row before which an import goes: after the last top-level import (`import`, or a
 * `require` statement in TS/JS: an in-file helper uses the `tf` it binds from the first line
 * on); without imports, after a leading docstring (Python) or directive (`'use client'`), else
 * before the first statement, so a shebang, an encoding line or a license header stays on top.
 */
export function insertRow(root: Node, python: boolean): number {
  const kids = root.namedChildren.filter((c): c is Node => c !== null);
  const imports = kids.filter((c) => (python ? PY_IMPORTS.has(c.type) : c.type === 'import_statement' || isRequireStatement(c)));
  if (imports.length > 0) return imports[imports.length - 1].endPosition.row + 1;
  const stmts = kids.filter((c) => c.type !== 'comment' && c.type !== 'hash_bang_line');
  const first = stmts[0];
  if (!first) return kids.length ? kids[kids.length - 1].endPosition.row + 1 : 0;
  if (first.type === 'expression_statement' && first.namedChildren[0]?.type === 'string') return first.endPosition.row + 1;
  return first.startPosition.row;
}

/** Inside a function (or lambda): runs later than the module's top level, so after any import. */
export function insideFunction(n: Node): boolean {
  const fns = /^(function_definition|lambda|function_declaration|function_expression|arrow_function|method_definition|generator_function_declaration)$/;
  for (let p = n.parent; p; p = p.parent) if (fns.test(p.type)) return true;
  return false;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The import that reaches the helper at `helperPath` from `file`: a sibling or a module in a
 * subfolder (`from models.cc_loss import cc_nll`, which Python 3's namespace packages resolve
 * when the script runs from its folder); undefined for a helper outside the file's folder, which
 * only the user's sys.path setup could reach. TS/JS: as the helper's jsModule says (`import`
 * without extension for TS, with it for ESM JavaScript, `require` for CommonJS).
 */
export function importFor(helper: CcHelper, file: string, helperPath: string, python: boolean): { line: string; module: string } | undefined {
  const rel = relative(dirname(file), helperPath);
  const ext = extname(rel);
  const noExt = rel.slice(0, rel.length - ext.length);
  const fn = helper.functionName;
  if (python) {
    const parts = noExt.split(sep);
    if (parts.some((p) => !IDENT.test(p))) return undefined;
    const module = parts.join('.');
    return { line: `from ${module} import ${fn}`, module };
  }
  const kind = helper.jsModule ?? 'ts';
  const keepExt = kind === 'esm' || (kind === 'cjs' && ext !== '.js');
  let spec = (keepExt ? rel : noExt).split(sep).join('/');
  if (!spec.startsWith('.')) spec = `./${spec}`;
  const line = kind === 'cjs' ? `const { ${fn} } = require('${spec}');` : `import { ${fn} } from '${spec}';`;
  return { line, module: spec };
}

function stringValue(n: Node | null | undefined): string | undefined {
  if (n?.type !== 'string') return undefined;
  return n.namedChildren.find((c) => c?.type === 'string_fragment')?.text ?? '';
}

/** The same module, written with or without its file extension (`./ccLoss` and `./ccLoss.js`). */
function sameModule(a: string, b: string): boolean {
  const bare = (m: string) => m.replace(/\.(?:[cm]?[jt]s|[jt]sx)$/, '');
  return a === b || bare(a) === bare(b);
}

/** Is this import statement ours: `from <module> import <fn>` / `import { <fn> } from '<module>'`? */
function importsHelper(st: Node, fn: string, module: string): boolean {
  if (st.type === 'import_from_statement') {
    if (st.childForFieldName('module_name')?.text !== module) return false;
    return st.namedChildren.some((c) => c?.type === 'dotted_name' && c.text === fn);
  }
  const source = st.type === 'import_statement' ? stringValue(st.childForFieldName('source')) : undefined;
  if (source !== undefined && sameModule(source, module)) {
    return st.descendantsOfType('import_specifier').some((s) => s?.childForFieldName('name')?.text === fn && !s.childForFieldName('alias'));
  }
  return false;
}

/** Is this `{ <fn> }` pattern ours: a top-level `const { <fn> } = require('<module>')`? */
function requiresHelper(id: Node, root: Node, module: string): boolean {
  const pattern = id.parent;
  const decl = pattern?.parent;
  if (pattern?.type !== 'object_pattern' || decl?.type !== 'variable_declarator' || decl.childForFieldName('name')?.id !== pattern.id) return false;
  const value = decl.childForFieldName('value');
  if (value?.type !== 'call_expression' || value.childForFieldName('function')?.text !== 'require') return false;
  const source = stringValue(value.childForFieldName('arguments')?.namedChildren[0]);
  return source !== undefined && sameModule(source, module) && decl.parent?.parent?.id === root.id;
}

export type HelperState = 'imported' | 'defined' | 'absent' | 'conflict';

/**
 * How the file already binds the helper function's name: our import (or CommonJS require), a
 * top-level definition (the helper inserted in-file before), nothing, or something else (a
 * variable, another import, a destructured name): a conflict, so the fix is refused rather than
 * shadow or be shadowed.
 */
export function helperState(root: Node, fn: string, module: string | undefined): HelperState {
  let imported = false;
  let defined = false;
  // Identifiers, and the names a destructuring binds (`const { ccNll } = require(…)`).
  for (const id of root.descendantsOfType(['identifier', 'shorthand_property_identifier_pattern'])) {
    if (!id || id.text !== fn) continue;
    const p = id.parent;
    if (!p) return 'conflict';
    if (id.type === 'shorthand_property_identifier_pattern') {
      if (module !== undefined && requiresHelper(id, root, module)) {
        imported = true;
        continue;
      }
      return 'conflict';
    }
    // Calls the fix wrote before (the binding is checked by the import / definition found).
    if ((p.type === 'call' || p.type === 'call_expression') && p.childForFieldName('function')?.id === id.id) continue;
    if ((p.type === 'function_definition' || p.type === 'function_declaration') && p.parent?.id === root.id) {
      defined = true;
      continue;
    }
    // TS: `export function ccNll` sits inside an export_statement at the top.
    if (p.type === 'function_declaration' && p.parent?.type === 'export_statement' && p.parent.parent?.id === root.id) {
      defined = true;
      continue;
    }
    let st: Node | null = p;
    while (st && st.type !== 'import_from_statement' && st.type !== 'import_statement') st = st.parent;
    if (st && module !== undefined && st.parent?.id === root.id && importsHelper(st, fn, module)) {
      imported = true;
      continue;
    }
    return 'conflict';
  }
  if (defined && imported) return 'conflict';
  return defined ? 'defined' : imported ? 'imported' : 'absent';
}

const word = (name: string): RegExp => new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);

/**
 * Whether the file binds `name` other than by `import name` / `import name.sub`: an alias, a
 * from-import, an assignment, a definition. Then the helper's `import name` would rebind it.
 */
function rebinds(text: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  return [
    new RegExp(`\\bas\\s+${n}\\b`),
    new RegExp(`^\\s*from\\s+\\S+\\s+import\\b.*\\b${n}\\b`, 'm'),
    new RegExp(`^\\s*(?:def|class)\\s+${n}\\b`, 'm'),
    new RegExp(`(?<![\\w.])${n}\\s*(?::[^=\\n]*)?=(?!=)`),
    new RegExp(`\\bfor\\s+${n}\\b`),
  ].some((r) => r.test(text));
}

/**
 * The helper's source, adapted to live in the user's file: its module docstring as comments,
 * no `__all__` or `module.exports` (it would replace the file's own), no `export` (the file's
 * API stays as it was), and no import (or CommonJS require) the file already has. Undefined when
 * one of the helper's top-level names is already used in the file (anywhere, strings included: a
 * conservative test).
 */
export function inFileSource(helper: CcHelper, text: string, python: boolean, fileTfNamespace: string | undefined): string | undefined {
  let src = helper.source;
  const userLines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const kept: string[] = [];
  if (python && src.startsWith('"""')) {
    const end = src.indexOf('"""', 3);
    const doc = src.slice(3, end).split('\n');
    kept.push(...doc.map((l) => (l.trim() ? `# ${l}` : '#').trimEnd()));
    src = src.slice(end + 3).replace(/^\n/, '');
  }
  for (const line of src.split('\n')) {
    if (python ? /^__all__\s*=/.test(line) : /^module\.exports\s*=/.test(line)) continue;
    const imp = python
      ? /^(?:import (\S+)(?: as (\w+))?|from \S+ import (\w+)(?: as (\w+))?)\s*$/.exec(line)
      : /^(?:import \* as ([\w$]+) from|const ([\w$]+) = require\() ?'([^']+)'\)?;\s*$/.exec(line);
    if (imp) {
      if (userLines.has(line.trim())) continue;
      const bound = python ? (imp[2] ?? imp[4] ?? imp[3] ?? imp[1].split('.')[0]) : (imp[1] ?? imp[2]);
      // tfjs-core is the API the helper uses, so the file's own `import * as tf` of any tfjs package serves.
      if (!python && bound === fileTfNamespace) continue;
      if (python && !imp[2] && !imp[3] && !imp[1].includes('.') ? rebinds(text, bound) : word(bound).test(text)) return undefined;
      kept.push(line);
      continue;
    }
    const def = python
      ? /^(?:def|class) (\w+)|^(\w+)\s*=/.exec(line)
      : /^(?:export\s+)?(?:const|let|var|function|type|interface|class)\s+([\w$]+)/.exec(line);
    const name = def?.[1] ?? def?.[2];
    if (name && word(name).test(text)) return undefined;
    kept.push(python ? line : line.replace(/^export\s+/, ''));
  }
  return kept.join('\n').replace(/\n+$/, '\n');
}
