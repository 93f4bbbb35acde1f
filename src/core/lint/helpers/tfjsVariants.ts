/**
 * The tfjs CC helper in the form the user's file can import: TypeScript for TS/TSX files, and for
 * JavaScript the same source with its types stripped (src/core/lint/stripTypes.ts), as an ES
 * module or as CommonJS to match the file. Every variant imports the tfjs package the file
 * imports its namespace from (@tensorflow/tfjs, -core, -node or -node-gpu), so the helper and the
 * user's code share one engine and need nothing the project does not have; @tensorflow/tfjs
 * when the file shows none. No `vscode` here.
 */
import { extname } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { tfjsImport } from '../fixTfjs';
import { stripTypes, toCommonJs } from '../stripTypes';
import type { LintLanguage } from '../types';
import { TFJS_HELPER } from './tfjs';
import type { CcHelper } from './types';

export type JsModuleKind = 'esm' | 'cjs';

const DEFAULT_PACKAGE = '@tensorflow/tfjs';

/**
 * How a JavaScript file loads modules: .mjs is ESM and .cjs CommonJS whatever they contain;
 * another file (.js, .jsx, an untitled document) is ESM when it has a top-level import or export
 * statement, else CommonJS (`require`, as Node reads a .js file without "type": "module").
 */
export function jsModuleKind(root: Node, file: string): JsModuleKind {
  const ext = extname(file).toLowerCase();
  if (ext === '.mjs') return 'esm';
  if (ext === '.cjs') return 'cjs';
  return root.namedChildren.some((c) => c?.type === 'import_statement' || c?.type === 'export_statement') ? 'esm' : 'cjs';
}

/** The helper source with its one tfjs import (or require) pointed at `pkg`. */
function withPackage(source: string, pkg: string): string {
  const quoted = `'${DEFAULT_PACKAGE}'`;
  if (source.split(quoted).length !== 2) throw new Error(`tfjs CC helper: expected ${quoted} exactly once in the source`);
  return pkg === DEFAULT_PACKAGE ? source : source.replace(quoted, `'${pkg}'`);
}

const jsSources: Partial<Record<JsModuleKind, Promise<string>>> = {};

/** The helper as JavaScript (made once per process; a failure is a bug in the helper or the stripper and stays one). */
export function tfjsHelperJs(kind: JsModuleKind): Promise<string> {
  jsSources.esm ??= stripTypes(TFJS_HELPER.source);
  if (kind === 'cjs') jsSources.cjs ??= jsSources.esm.then(toCommonJs);
  return jsSources[kind]!;
}

/** The tfjs helper for a file of `language` at `file` (a path or an untitled URI) whose tree is `root`. */
export async function tfjsHelperFor(language: LintLanguage, file: string, root: Node): Promise<CcHelper> {
  const pkg = tfjsImport(root)?.pkg ?? DEFAULT_PACKAGE;
  if (language !== 'javascript') return { ...TFJS_HELPER, source: withPackage(TFJS_HELPER.source, pkg) };
  const kind = jsModuleKind(root, file);
  const own = extname(file).toLowerCase();
  const ext = kind === 'esm' ? (own === '.mjs' ? '.mjs' : '.js') : own === '.cjs' ? '.cjs' : '.js';
  const { moduleName: name, functionName: fn } = TFJS_HELPER;
  const fileName = name + ext;
  // require adds .js itself; Node's ESM loader adds nothing.
  const spec = kind === 'cjs' && ext === '.js' ? `./${name}` : `./${fileName}`;
  return {
    ...TFJS_HELPER,
    fileName,
    source: withPackage(await tfjsHelperJs(kind), pkg),
    importLine: kind === 'esm' ? `import { ${fn} } from '${spec}';` : `const { ${fn} } = require('${spec}');`,
    jsModule: kind,
  };
}
