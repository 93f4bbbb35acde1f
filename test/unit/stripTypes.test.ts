/**
 * src/core/lint/stripTypes.ts, which derives the JavaScript CC helpers from the TypeScript one:
 * the helper's JavaScript (ESM and CommonJS) parses with the JavaScript grammar, holds no
 * TypeScript syntax and passes plain `node --check`; the stripper's output on every construct it
 * erases, with tidy whitespace; a clear error on each TypeScript-only construct it does not
 * handle; the ESM → CommonJS conversion.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Node } from 'web-tree-sitter';
import { CC_HELPERS, tfjsHelperJs } from '../../src/core/lint/helpers';
import { parserFor } from '../../src/core/lint/parser';
import { stripTypes, toCommonJs } from '../../src/core/lint/stripTypes';

const run = promisify(execFile);

function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.children) if (c) yield* walk(c);
}

/** The named node kinds of a parse of `text` with `language`'s grammar, and whether any is ERROR or MISSING. */
async function kindsOf(text: string, language: 'javascript' | 'typescript'): Promise<{ kinds: Set<string>; broken: string[] }> {
  const tree = (await parserFor(language)).parse(text);
  assert.ok(tree);
  try {
    const kinds = new Set<string>();
    const broken: string[] = [];
    for (const n of walk(tree.rootNode)) {
      if (n.isNamed) kinds.add(n.type);
      if (n.type === 'ERROR' || n.isMissing) broken.push(`${n.type}${n.isMissing ? ' (missing)' : ''} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    }
    return { kinds, broken };
  } finally {
    tree.delete();
  }
}

describe('the tfjs CC helper as JavaScript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strip-types-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: parses with the JavaScript grammar (no ERROR / MISSING), holds no TypeScript syntax, passes node --check`, async () => {
      const js = await tfjsHelperJs(kind);
      const asJs = await kindsOf(js, 'javascript');
      assert.deepEqual(asJs.broken, []);
      // Read with the TypeScript grammar, plain JavaScript shows no TypeScript-only node but the
      // grammar's wrapper of every parameter.
      const asTs = await kindsOf(js, 'typescript');
      assert.deepEqual(asTs.broken, []);
      const tsOnly = [...asTs.kinds].filter((k) => !asJs.kinds.has(k) && k !== 'required_parameter');
      assert.deepEqual(tsOnly, []);
      assert.doesNotMatch(js, /\bas \[|\w: (?:number|tf\.Tensor|ArrayLike|Float32Array|CcReduction)\b|\btype CcReduction\b/);
      // The same code as the TypeScript: every runtime line of it is still there.
      for (const line of ['const ccRows = tf.customGrad((...args) => {', 'function ccRow(z, y, base, K, dz, x, G, V) {', "  return tf.tidy(() => {"]) assert.ok(js.includes(line), line);
      assert.equal(js.split('\n').length, CC_HELPERS.tfjs.source.split('\n').length - 2 + (kind === 'cjs' ? 2 : 0), 'only the type alias and its blank line go');
      // Plain Node (no tsx, no TypeScript loader) accepts it as a module of its kind.
      const file = join(dir, kind === 'esm' ? 'ccLoss.mjs' : 'ccLoss.cjs');
      writeFileSync(file, js);
      await run(process.execPath, ['--check', file]);
      if (kind === 'esm') {
        assert.match(js, /^import \* as tf from '@tensorflow\/tfjs';$/m);
        assert.match(js, /^export function ccNll\(/m);
      } else {
        assert.match(js, /^const tf = require\('@tensorflow\/tfjs'\);$/m);
        assert.doesNotMatch(js, /^\s*(?:import|export)\b/m);
        assert.ok(js.endsWith('\n}\n\nmodule.exports = { ccNll };\n'));
      }
    });
  }
});

describe('stripTypes', () => {
  it('erases annotations, as / satisfies / ! tails, type arguments and parameters, ?, type-only declarations; tidy whitespace', async () => {
    const ts = [
      "import type { Foo } from './foo';",
      "import * as tf from '@tensorflow/tfjs';",
      '',
      "export type Red = 'mean' | 'sum';",
      'interface Opts {',
      '  a: number;',
      '}',
      '',
      'const N: number = 3;',
      'let late!: string;',
      'function f<T extends object>(x: T, y?: number, ...rest: Array<number>): T | undefined {',
      '  const z = (x as unknown) as T;',
      '  return y! > 0 ? z : rest.length ? undefined : late;',
      '}',
      'export const g = (a : number, b: Opts): number => a + b.a;',
      'class Box<T> extends Array<T> {',
      '  size = 0;',
      '  get n(): number {',
      '    return this.size;',
      '  }',
      '}',
      'const m = new Map<string, number>();',
      'const s = { k: 1 } satisfies Record<string, number>;',
      '',
      'export type { Opts };',
      '',
      'export { N, f, m, s, tf };',
      '',
    ].join('\n');
    const want = [
      "import * as tf from '@tensorflow/tfjs';",
      '',
      'const N = 3;',
      'let late;',
      'function f(x, y, ...rest) {',
      '  const z = (x);',
      '  return y > 0 ? z : rest.length ? undefined : late;',
      '}',
      'export const g = (a, b) => a + b.a;',
      'class Box extends Array {',
      '  size = 0;',
      '  get n() {',
      '    return this.size;',
      '  }',
      '}',
      'const m = new Map();',
      'const s = { k: 1 };',
      '',
      'export { N, f, m, s, tf };',
      '',
    ].join('\n');
    assert.equal(await stripTypes(ts), want);
  });

  it('throws, naming the construct, on TypeScript-only syntax it does not handle', async () => {
    const cases: [string, RegExp][] = [
      ['enum Color { Red, Green }\n', /enum_declaration/],
      ['const enum E { A }\n', /enum_declaration/],
      ['namespace NS { export const a = 1; }\n', /internal_module/],
      ['declare const x: number;\n', /ambient_declaration/],
      ['function dec(t: unknown) { return t; }\n@dec\nclass A {}\n', /decorator/],
      ['class A { private x = 1; }\n', /accessibility_modifier/],
      ['class A { constructor(public x: number) {} }\n', /accessibility_modifier/],
      ['class A { readonly x = 1; }\n', /field modifier readonly/],
      ['interface I { a: number }\nclass A implements I { a = 1; }\n', /implements_clause/],
      ['abstract class A { abstract f(): void; }\n', /abstract_class_declaration/],
      ['function f(a: string): void;\nfunction f(a: unknown) { return a; }\n', /function_signature/],
      ['const a = <number>(1 as unknown);\n', /type_assertion/],
      ["import fs = require('fs');\n", /import_require_clause|import_alias/],
      ['const a = 1;\nexport = a;\n', /export =/],
      ["import { type A, b } from './m';\n", /inline type specifier/],
      ['function f(this: Window) { return this; }\n', /this parameter/],
      ['const a: = 1;\n', /syntax error/],
    ];
    for (const [ts, err] of cases) {
      await assert.rejects(stripTypes(ts), (e: Error) => {
        assert.match(e.message, /^stripTypes: /);
        assert.match(e.message, err, ts);
        assert.match(e.message, /line \d+, column \d+/);
        return true;
      }, ts);
    }
  });
});

describe('toCommonJs', () => {
  it('imports to require, exported declarations to one module.exports at the end', async () => {
    const esm = [
      '/** header */',
      "import * as tf from '@tensorflow/tfjs';",
      "import { a, b as c } from './m.js';",
      "import './side-effect.js';",
      '',
      'export const K = 2, L = 3;',
      'export function f() {',
      '  return tf.add(a, c);',
      '}',
      'export class Box {}',
      '',
    ].join('\n');
    const want = [
      '/** header */',
      "const tf = require('@tensorflow/tfjs');",
      "const { a, b: c } = require('./m.js');",
      "require('./side-effect.js');",
      '',
      'const K = 2, L = 3;',
      'function f() {',
      '  return tf.add(a, c);',
      '}',
      'class Box {}',
      '',
      'module.exports = { K, L, f, Box };',
      '',
    ].join('\n');
    assert.equal(await toCommonJs(esm), want);
  });

  it('throws on what it does not convert', async () => {
    for (const esm of ["import tf from 'x';\n", 'export default 1;\n', "export * from './m.js';\n", 'const a = 1;\nexport { a };\n', 'export const { a } = {};\n', 'const u = import.meta.url;\n']) {
      await assert.rejects(toCommonJs(esm), /^Error: toCommonJs: .* at line \d+/, esm);
    }
  });
});
