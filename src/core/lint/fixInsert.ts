/**
 * Where the "use the CC loss" fix puts the helper's import (or, in-file, the helper itself), and
 * whether the helper's names are free in the file. Positions are 0-based rows here.
 */
import { dirname, extname, relative, sep } from 'node:path';
import type { Node } from 'web-tree-sitter';
import type { CcHelper } from './helpers';

const PY_IMPORTS = new Set(['import_statement', 'import_from_statement', 'future_import_statement']);

/**
 * The row before which an import goes: after the last top-level import; without imports, after
 * a leading docstring (Python) or directive (`'use client'`), else before the first statement, so
 * a shebang, an encoding line or a license header stays on top.
 */
export function insertRow(root: Node, python: boolean): number {
  const kids = root.namedChildren.filter((c): c is Node => c !== null);
  const imports = kids.filter((c) => (python ? PY_IMPORTS.has(c.type) : c.type === 'import_statement'));
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
 * only the user's sys.path setup could reach.
 */
export function importFor(helper: CcHelper, file: string, helperPath: string, python: boolean): { line: string; module: string } | undefined {
  const rel = relative(dirname(file), helperPath);
  const noExt = rel.slice(0, rel.length - extname(rel).length);
  if (python) {
    const parts = noExt.split(sep);
    if (parts.some((p) => !IDENT.test(p))) return undefined;
    const module = parts.join('.');
    return { line: `from ${module} import ${helper.functionName}`, module };
  }
  let spec = noExt.split(sep).join('/');
  if (!spec.startsWith('.')) spec = `./${spec}`;
  return { line: `import { ${helper.functionName} } from '${spec}';`, module: spec };
}

function stringValue(n: Node | null | undefined): string | undefined {
  if (n?.type !== 'string') return undefined;
  return n.namedChildren.find((c) => c?.type === 'string_fragment')?.text ?? '';
}

/** Is this import statement ours: `from <module> import <fn>` / `import { <fn> } from '<module>'`? */
function importsHelper(st: Node, fn: string, module: string): boolean {
  if (st.type === 'import_from_statement') {
    if (st.childForFieldName('module_name')?.text !== module) return false;
    return st.namedChildren.some((c) => c?.type === 'dotted_name' && c.text === fn);
  }
  if (st.type === 'import_statement' && stringValue(st.childForFieldName('source')) === module) {
    return st.descendantsOfType('import_specifier').some((s) => s?.childForFieldName('name')?.text === fn && !s.childForFieldName('alias'));
  }
  return false;
}

export type HelperState = 'imported' | 'defined' | 'absent' | 'conflict';

/**
 * How the file already binds the helper function's name: our import, a top-level definition (the
 * helper inserted in-file before), nothing, or something else (a variable, another import): a
 * conflict, so the fix is refused rather than shadow or be shadowed.
 */
export function helperState(root: Node, fn: string, module: string | undefined): HelperState {
  let imported = false;
  let defined = false;
  for (const id of root.descendantsOfType('identifier')) {
    if (!id || id.text !== fn) continue;
    const p = id.parent;
    if (!p) return 'conflict';
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
 * no `__all__` (it would replace the file's own), no `export` (the file's API stays as it was),
 * and no import the file already has. Undefined when one of the helper's top-level names is
 * already used in the file (anywhere, strings included: a conservative test).
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
    if (python && /^__all__\s*=/.test(line)) continue;
    const imp = python
      ? /^(?:import (\S+)(?: as (\w+))?|from \S+ import (\w+)(?: as (\w+))?)\s*$/.exec(line)
      : /^import \* as ([\w$]+) from '([^']+)';\s*$/.exec(line);
    if (imp) {
      if (userLines.has(line.trim())) continue;
      const bound = python ? (imp[2] ?? imp[4] ?? imp[3] ?? imp[1].split('.')[0]) : imp[1];
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
