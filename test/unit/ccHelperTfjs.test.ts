/**
 * The tfjs helper that the "use the CC loss" quick fix inserts (src/core/lint/helpers), run as
 * the user would run it, in each form the fix writes: ccLoss.ts imported with tsx, and the
 * type-stripped JavaScript as ccLoss.mjs (ESM, imported) and ccLoss.cjs (CommonJS, required).
 * The repo has tfjs-core, not the umbrella @tensorflow/tfjs the helper imports by default, so
 * the test points that import at the same tfjs-core module the suite uses (one engine, one
 * backend). The checks themselves are in test/fixtures/cc-helpers/tfjsSuite.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after } from 'node:test';
import { CC_HELPERS, ccHelperFor } from '../../src/core/lint/helpers';
import { type CcNll, tfjsHelperSuite } from '../fixtures/cc-helpers/tfjsSuite';

const UMBRELLA = "'@tensorflow/tfjs'";
const require_ = createRequire(__filename);
const CORE = require_.resolve('@tensorflow/tfjs-core');
const dir = mkdtempSync(join(tmpdir(), 'cc-helper-tfjs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `source` as `fileName` with its tfjs import pointed at `target`; its path. */
function writeHelper(fileName: string, source: string, target: string): string {
  assert.equal(source.split(UMBRELLA).length, 2, `${fileName}: the helper imports the umbrella package once`);
  const file = join(dir, fileName);
  writeFileSync(file, source.replace(UMBRELLA, JSON.stringify(target)));
  return file;
}

tfjsHelperSuite('tfjs CC helper (ccLoss.ts) against the float64 core', async () => {
  const helper = CC_HELPERS.tfjs;
  assert.ok(helper.source.includes(`import * as tf from ${UMBRELLA};`));
  const file = writeHelper(helper.fileName, helper.source, CORE);
  return ((await import(pathToFileURL(file).href)) as { ccNll: CcNll }).ccNll;
});

// The JavaScript variants as the fix makes them for a user's .mjs / .cjs file that imports the umbrella package.
tfjsHelperSuite('tfjs CC helper as ESM JavaScript (ccLoss.mjs) against the float64 core', async () => {
  const helper = await ccHelperFor('tfjs', 'javascript', '/proj/train.mjs', `import * as tf from ${UMBRELLA};\n`);
  assert.equal(helper.fileName, 'ccLoss.mjs');
  assert.match(helper.source, /^import \* as tf from '@tensorflow\/tfjs';$/m);
  assert.match(helper.source, /^export function ccNll\(logits, target, reduction = 'mean'\) \{$/m);
  const file = writeHelper(helper.fileName, helper.source, pathToFileURL(CORE).href);
  return ((await import(pathToFileURL(file).href)) as { ccNll: CcNll }).ccNll;
});

tfjsHelperSuite('tfjs CC helper as CommonJS JavaScript (ccLoss.cjs) against the float64 core', async () => {
  const helper = await ccHelperFor('tfjs', 'javascript', '/proj/train.cjs', `const tf = require(${UMBRELLA});\n`);
  assert.equal(helper.fileName, 'ccLoss.cjs');
  assert.match(helper.source, /^const tf = require\('@tensorflow\/tfjs'\);$/m);
  assert.match(helper.source, /^function ccNll\(logits, target, reduction = 'mean'\) \{$/m);
  assert.match(helper.source, /\nmodule\.exports = \{ ccNll \};\n$/);
  assert.doesNotMatch(helper.source, /^\s*(import|export)\b/m);
  const file = writeHelper(helper.fileName, helper.source, CORE);
  return (require_(file) as { ccNll: CcNll }).ccNll;
});
