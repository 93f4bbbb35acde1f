/**
 * Tree-sitter (wasm) for the lint engine: one runtime init and one Parser per language for the
 * life of the process. The grammars are the ones VS Code ships (@vscode/tree-sitter-wasm); the
 * runtime is web-tree-sitter 0.25.x, which reads their ABI (14 for TS/TSX, 15 for Python/JS).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Parser as ParserT } from 'web-tree-sitter';
import type { LintLanguage } from './types';

// require, not import: the package's ESM build reads import.meta.url at load time, which is
// undefined in the CommonJS bundle; require makes esbuild (and tsx) take tree-sitter.cjs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Language, Parser } = require('web-tree-sitter') as typeof import('web-tree-sitter');

const GRAMMAR_FILE: Record<LintLanguage, string> = {
  python: 'tree-sitter-python.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
};

export interface WasmPaths {
  /** web-tree-sitter's own tree-sitter.wasm. */
  runtime: string;
  /** The folder holding the tree-sitter-<language>.wasm grammars. */
  grammars: string;
}

/**
 * The bundle (dist/*.js) finds everything in dist/tree-sitter/, copied there by esbuild.mjs; from
 * source (tsx tests, this file in src/core/lint) the packages in node_modules are used instead.
 */
export function wasmPaths(): WasmPaths {
  const bundled = join(__dirname, 'tree-sitter');
  if (existsSync(join(bundled, 'tree-sitter.wasm'))) return { runtime: join(bundled, 'tree-sitter.wasm'), grammars: bundled };
  const req = createRequire(__filename);
  // Neither package exports its package.json, so resolve a file each one does export.
  const runtime = join(dirname(req.resolve('web-tree-sitter')), 'tree-sitter.wasm');
  const grammars = dirname(req.resolve('@vscode/tree-sitter-wasm'));
  return { runtime, grammars };
}

let init: Promise<void> | undefined;
const parsers = new Map<LintLanguage, Promise<ParserT>>();

/** A parser for the language, created on first use and shared afterwards (callers parse one file at a time). */
export function parserFor(language: LintLanguage): Promise<ParserT> {
  let p = parsers.get(language);
  if (!p) {
    p = (async () => {
      const paths = wasmPaths();
      init ??= Parser.init({ locateFile: () => paths.runtime }).catch((e: unknown) => {
        init = undefined;
        throw e;
      });
      await init;
      const lang = await Language.load(join(paths.grammars, GRAMMAR_FILE[language]));
      const parser = new Parser();
      parser.setLanguage(lang);
      return parser;
    })();
    // A failed load (missing file) must not poison later calls with the same rejected promise.
    p.catch(() => parsers.delete(language));
    parsers.set(language, p);
  }
  return p;
}
