/**
 * Quick fixes (src/core/lint/fixes.ts) with the real tree-sitter parser: the plans' edits are
 * applied to the text and compared with the expected text; suppressed and rewritten files are
 * linted again; one rewritten PyTorch file runs under Debian's python3-torch, and rewritten
 * CommonJS and ESM JavaScript files run under plain Node with tfjs-core.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ccNll } from '../../src/core/cc/losses';
import { lintText } from '../../src/core/lint/engine';
import { ccLossFix, type FixPlan, suppressFix } from '../../src/core/lint/fixes';
import { CC_HELPERS, ccHelperFor, jsModuleKind, tfjsHelperJs } from '../../src/core/lint/helpers';
import { parserFor } from '../../src/core/lint/parser';
import type { Finding, LintLanguage, RuleCode, TextEdit } from '../../src/core/lint/types';
import { runPython, torchPython } from '../fixtures/torch/torchEnv';

const FIXTURES = join(__dirname, '..', 'fixtures', 'lint-fixes');
const DIR = '/proj';
const PY_HELPER = join(DIR, 'cc_loss.py');
const TS_HELPER = join(DIR, 'ccLoss.ts');

/** Applies 1-based, end-exclusive edits (all against the original text), last first. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const offset = (line: number, col: number) => (line - 1 < starts.length ? starts[line - 1] : text.length) + col - 1;
  const sorted = [...edits].sort((a, b) => offset(b.line, b.column) - offset(a.line, a.column));
  let out = text;
  for (const e of sorted) out = out.slice(0, offset(e.line, e.column)) + e.newText + out.slice(offset(e.endLine, e.endColumn));
  return out;
}

function applyPlan(text: string, plan: FixPlan, file: string): string {
  assert.equal(plan.edits.length, 1);
  assert.equal(plan.edits[0].file, file);
  return applyEdits(text, plan.edits[0].edits);
}

const lang = (file: string): LintLanguage => (file.endsWith('.py') ? 'python' : /\.[cm]?jsx?$/.test(file) ? 'javascript' : 'typescript');

/** Parses with no ERROR or MISSING node at all (lintText tolerates a few). */
async function assertParsesClean(text: string, language: LintLanguage): Promise<void> {
  const tree = (await parserFor(language)).parse(text);
  assert.ok(tree);
  try {
    assert.equal(tree.rootNode.hasError, false, `parses without errors:\n${text}`);
  } finally {
    tree.delete();
  }
}

async function findingsOf(text: string, file: string, code?: RuleCode): Promise<Finding[]> {
  const r = await lintText(text, lang(file), file);
  assert.equal(r.parseError, undefined, `${file} parses`);
  return code ? r.findings.filter((f) => f.code === code) : r.findings;
}

/** Lints `text`, fixes its one finding of `code` with the CC loss, and returns the new text. */
async function ccFixed(text: string, code: RuleCode, opts: { file?: string; inFile?: boolean; helperExists?: boolean } = {}) {
  const file = opts.file ?? join(DIR, 'train.py');
  const [f, ...more] = await findingsOf(text, file, code);
  assert.ok(f, `a ${code} finding in:\n${text}`);
  assert.equal(more.length, 0);
  // As the editor names it: after the helper that the file's language and module syntax take.
  const helperPath = file.endsWith('.py') ? PY_HELPER : join(dirname(file), (await ccHelperFor(f.framework, lang(file), file, text)).fileName);
  const plan = await ccLossFix(text, f, lang(file), { helperPath, helperExists: opts.helperExists ?? false, inFile: opts.inFile });
  return { plan, fixed: plan ? applyPlan(text, plan, file) : undefined };
}

const TORCH = 'import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n\ndef step(logits, teacher, y):\n    soft = teacher.softmax(-1)\n';
const TORCH_FIXED_HEAD = TORCH.replace('from torch import nn\n', 'from torch import nn\nfrom cc_loss import cc_nll\n');

describe('use the CC loss: Python rewrites', () => {
  const cases: [RuleCode, string, string][] = [
    // cross_entropy's class axis is 1: the rewrite says so (the same for (N, C) and (N, C, d…)).
    ['LL102', '    return F.cross_entropy(logits, soft)\n', '    return cc_nll(logits, soft, dim=1)\n'],
    ['LL102', "    return F.cross_entropy(logits, target=soft, reduction='sum')\n", "    return cc_nll(logits, soft, reduction='sum', dim=1)\n"],
    ['LL102', '    crit = nn.CrossEntropyLoss(reduction="none").to("cuda")\n    return crit(\n        logits,\n        soft,\n    )\n', '    crit = nn.CrossEntropyLoss(reduction="none").to("cuda")\n    return cc_nll(logits, soft, reduction="none", dim=1)\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean()\n', '    return cc_nll(logits, soft, dim=1)\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits, dim=0)).sum(dim=0)\n', '    return cc_nll(logits, soft, reduction="none", dim=0)\n'],
    ['LL104', '    return torch.sum(-soft * torch.log_softmax(logits, dim=-1), dim=-1)\n', '    return cc_nll(logits, soft, reduction="none")\n'],
    ['LL104', '    return (-soft * logits.log_softmax(1)).sum(1).mean() * 0.5\n', '    return cc_nll(logits, soft, dim=1) * 0.5\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits, -1)).sum()\n', '    return cc_nll(logits, soft, reduction="sum")\n'],
  ];
  for (const [code, body, want] of cases) {
    it(`${code}: ${body.trim().split('\n')[0]}`, async () => {
      const { plan, fixed } = await ccFixed(TORCH + body, code);
      assert.equal(plan?.kind, 'cc-loss');
      assert.equal(plan?.title, 'Use the CC loss (cc_nll from cc_loss.py)');
      assert.deepEqual(plan?.create, [{ file: PY_HELPER, content: CC_HELPERS.pytorch.source }]);
      assert.equal(fixed, TORCH_FIXED_HEAD + want);
      assert.deepEqual(await findingsOf(fixed, join(DIR, 'train.py')), []);
    });
  }

  it('LL112 (Keras helper) and LL121 (optax helper): per-row values', async () => {
    const tf = 'import tensorflow as tf\n\n\ndef f(z, t):\n    p = tf.nn.softmax(t)\n    return tf.nn.softmax_cross_entropy_with_logits(labels=p, logits=z)\n';
    const a = await ccFixed(tf, 'LL112');
    assert.equal(a.fixed, tf.replace('tf\n\n', 'tf\nfrom cc_loss import cc_nll\n\n').replace(/return .*/, 'return cc_nll(z, p, reduction="none")'));
    assert.equal(a.plan?.create?.[0].content, CC_HELPERS.keras.source);
    const ox = 'import jax\nimport optax\n\n\ndef f(z, t):\n    p = jax.nn.softmax(t)\n    return optax.softmax_cross_entropy(z, p, axis=-1).mean()\n';
    const b = await ccFixed(ox, 'LL121');
    assert.equal(b.fixed, ox.replace('optax\n', 'optax\nfrom cc_loss import cc_nll\n').replace(/return .*/, 'return cc_nll(z, p, reduction="none").mean()'));
    assert.equal(b.plan?.create?.[0].content, CC_HELPERS.optax.source);
  });

  it('imports once, creates the module only when missing, reaches a subfolder', async () => {
    const text = TORCH + '    a = F.cross_entropy(logits, soft)\n    b = F.cross_entropy(logits * 2, soft)\n    return a + b\n';
    const file = join(DIR, 'train.py');
    let cur = text;
    for (let i = 0; i < 2; i++) {
      const [f] = await findingsOf(cur, file, 'LL102');
      const plan = await ccLossFix(cur, f, 'python', { helperPath: PY_HELPER, helperExists: i > 0 });
      assert.ok(plan);
      assert.equal(plan.create, i === 0 ? plan.create : undefined);
      cur = applyPlan(cur, plan, file);
    }
    assert.equal(cur.match(/from cc_loss import cc_nll/g)?.length, 1);
    assert.match(cur, /a = cc_nll\(logits, soft, dim=1\)\n {4}b = cc_nll\(logits \* 2, soft, dim=1\)/);
    const [f] = await findingsOf(text, file, 'LL102');
    const sub = await ccLossFix(text, f, 'python', { helperPath: join(DIR, 'losses', 'cc_loss.py'), helperExists: true });
    assert.match(applyPlan(text, sub!, file), /^from losses\.cc_loss import cc_nll$/m);
    assert.equal(await ccLossFix(text, f, 'python', { helperPath: '/elsewhere/cc_loss.py', helperExists: true }), undefined);
  });

  it('in-file: the helper after the imports, once; the file still parses and runs the rules clean', async () => {
    const text = TORCH + '    a = F.cross_entropy(logits, soft)\n    b = F.cross_entropy(logits * 2, soft)\n    return a + b\n';
    const file = join(DIR, 'train.py');
    let cur = text;
    for (let i = 0; i < 2; i++) {
      const [f] = await findingsOf(cur, file, 'LL102');
      const plan = await ccLossFix(cur, f, 'python', { helperPath: PY_HELPER, helperExists: false, inFile: true });
      assert.ok(plan);
      assert.equal(plan.create, undefined);
      cur = applyPlan(cur, plan, file);
    }
    assert.equal(cur.match(/^def cc_nll\(/gm)?.length, 1);
    assert.doesNotMatch(cur, /__all__|^from cc_loss/m);
    assert.equal(cur.match(/^import torch$/gm)?.length, 1);
    assert.ok(cur.indexOf('def cc_nll(') < cur.indexOf('def step('));
    assert.match(cur, /^# Continuous-categorical \(CC\) loss for PyTorch/m);
    assert.deepEqual(await findingsOf(cur, file), []);
  });
});

describe('use the CC loss: TypeScript (LL131)', () => {
  const file = join(DIR, 'train.ts');
  const head = "import * as tf from '@tensorflow/tfjs-core';\n\nconst LS = 0.1;\n\nexport function loss(labels: tf.Tensor, logits: tf.Tensor) {\n";
  it('smooths the labels at the call the way tfjs does', async () => {
    const text = head + '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, LS, tf.Reduction.NONE);\n}\n';
    const { plan, fixed } = await ccFixed(text, 'LL131', { file });
    assert.equal(plan?.title, 'Use the CC loss (ccNll from ccLoss.ts)');
    // The helper imports the tfjs package the file imports (here tfjs-core, not the umbrella package).
    assert.deepEqual(plan?.create, [{ file: TS_HELPER, content: CC_HELPERS.tfjs.source.replace("'@tensorflow/tfjs'", "'@tensorflow/tfjs-core'") }]);
    const want = head.replace("core';\n", "core';\nimport { ccNll } from './ccLoss';\n") + "  return ccNll(logits, tf.add(tf.mul(labels, 1 - LS), LS / Number(labels.shape[1])), 'none');\n}\n";
    assert.equal(fixed, want);
    assert.deepEqual(await findingsOf(fixed, file), []);
  });
  it('in-file: no second tf import, nothing exported', async () => {
    const text = head + '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0.2);\n}\n';
    const { fixed } = await ccFixed(text, 'LL131', { file, inFile: true });
    assert.ok(fixed);
    assert.equal(fixed.match(/^import \* as tf/gm)?.length, 1);
    assert.match(fixed, /^function ccNll\(/m);
    assert.doesNotMatch(fixed, /^export (function ccNll|type CcReduction)/m);
    assert.match(fixed, /return ccNll\(logits, tf\.add\(tf\.mul\(labels, 1 - 0\.2\), 0\.2 \/ Number\(labels\.shape\[1\]\)\)\);/);
    assert.deepEqual(await findingsOf(fixed, file), []);
  });
});

describe('use the CC loss: JavaScript (LL131)', () => {
  const CJS = [
    "const tf = require('@tensorflow/tfjs-core');",
    "require('@tensorflow/tfjs-backend-cpu');",
    '',
    'const LS = 0.1;',
    '',
    'function loss(labels, logits) {',
    '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, LS, tf.Reduction.SUM);',
    '}',
    '',
    'module.exports = { loss };',
    '',
  ].join('\n');
  const ESM = [
    "import * as tf from '@tensorflow/tfjs-core';",
    "import '@tensorflow/tfjs-backend-cpu';",
    '',
    'export function loss(labels, logits) {',
    '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0.2);',
    '}',
    '',
  ].join('\n');
  const CJS_CALL = "  return ccNll(logits, tf.add(tf.mul(labels, 1 - LS), LS / Number(labels.shape[1])), 'sum');";
  const ESM_CALL = '  return ccNll(logits, tf.add(tf.mul(labels, 1 - 0.2), 0.2 / Number(labels.shape[1])));';

  it('which module syntax a file has: .mjs / .cjs by extension, .js (and untitled) by import/export or not', async () => {
    const kind = async (file: string, text: string) => {
      const tree = (await parserFor('javascript')).parse(text)!;
      try {
        return jsModuleKind(tree.rootNode, file);
      } finally {
        tree.delete();
      }
    };
    assert.equal(await kind('/p/a.mjs', "const tf = require('x');\n"), 'esm');
    assert.equal(await kind('/p/a.cjs', 'export const a = 1;\n'), 'cjs');
    assert.equal(await kind('/p/a.js', ESM), 'esm');
    assert.equal(await kind('/p/a.js', 'export const a = 1;\n'), 'esm');
    assert.equal(await kind('/p/a.js', CJS), 'cjs');
    assert.equal(await kind('/p/a.jsx', "// import x from 'y'\nconst s = 'import';\n"), 'cjs');
    assert.equal(await kind('untitled:Untitled-1', ESM), 'esm');
  });

  it('CommonJS .js: ccLoss.js created (CommonJS, requiring the file\'s tfjs package), a require after the requires, the call rewritten', async () => {
    const file = join(DIR, 'train.js');
    const { plan, fixed } = await ccFixed(CJS, 'LL131', { file });
    assert.equal(plan?.title, 'Use the CC loss (ccNll from ccLoss.js)');
    const helper = (await tfjsHelperJs('cjs')).replace("'@tensorflow/tfjs'", "'@tensorflow/tfjs-core'");
    assert.deepEqual(plan?.create, [{ file: join(DIR, 'ccLoss.js'), content: helper }]);
    const want = CJS.replace("backend-cpu');\n", "backend-cpu');\nconst { ccNll } = require('./ccLoss');\n").replace(/ {2}return tf\.losses.*/, CJS_CALL);
    assert.equal(fixed, want);
    await assertParsesClean(fixed, 'javascript');
    assert.deepEqual(await findingsOf(fixed, file), []);
  });

  it('.cjs: ccLoss.cjs, required with its extension', async () => {
    const file = join(DIR, 'train.cjs');
    const { plan, fixed } = await ccFixed(CJS, 'LL131', { file });
    assert.equal(plan?.create?.[0].file, join(DIR, 'ccLoss.cjs'));
    assert.match(fixed!, /^const \{ ccNll \} = require\('\.\/ccLoss\.cjs'\);$/m);
  });

  it('ESM .mjs: ccLoss.mjs created (ESM), imported with its extension after the imports', async () => {
    const file = join(DIR, 'train.mjs');
    const { plan, fixed } = await ccFixed(ESM, 'LL131', { file });
    assert.equal(plan?.title, 'Use the CC loss (ccNll from ccLoss.mjs)');
    const helper = (await tfjsHelperJs('esm')).replace("'@tensorflow/tfjs'", "'@tensorflow/tfjs-core'");
    assert.deepEqual(plan?.create, [{ file: join(DIR, 'ccLoss.mjs'), content: helper }]);
    const want = ESM.replace("backend-cpu';\n", "backend-cpu';\nimport { ccNll } from './ccLoss.mjs';\n").replace(/ {2}return tf\.losses.*/, ESM_CALL);
    assert.equal(fixed, want);
    await assertParsesClean(fixed, 'javascript');
    assert.deepEqual(await findingsOf(fixed, file), []);
  });

  it('ESM .js: ccLoss.js as ESM, imported as ./ccLoss.js; a file importing the umbrella package gets a helper importing it', async () => {
    const file = join(DIR, 'train.js');
    const text = ESM.replace('tfjs-core', 'tfjs');
    const { plan, fixed } = await ccFixed(text, 'LL131', { file });
    assert.deepEqual(plan?.create, [{ file: join(DIR, 'ccLoss.js'), content: await tfjsHelperJs('esm') }]);
    assert.match(fixed!, /^import \{ ccNll \} from '\.\/ccLoss\.js';$/m);
    await assertParsesClean(fixed!, 'javascript');
  });

  it('a second fix finds the helper imported (require or import, with or without extension): no second import, no second module', async () => {
    for (const [name, text, importLine] of [
      ['train.js', CJS, "const { ccNll } = require('./ccLoss');"],
      ['train.mjs', ESM, "import { ccNll } from './ccLoss.mjs';"],
    ]) {
      const file = join(DIR, name);
      // Two flagged calls: the first fix adds the import, the second only rewrites its call.
      let cur = text.replace(/( {2}return )(tf\.losses[^\n]*)/, '  const a = $2\n  const b = $2\n  return tf.add(a, b);');
      const firstCall = cur;
      for (let i = 0; i < 2; i++) {
        const [f] = await findingsOf(cur, file, 'LL131');
        const helperPath = join(DIR, (await ccHelperFor('tfjs', 'javascript', file, cur)).fileName);
        const plan = await ccLossFix(cur, f, 'javascript', { helperPath, helperExists: i > 0 });
        assert.ok(plan, `${name}, fix ${i + 1}`);
        assert.equal(plan.create === undefined, i > 0);
        if (i > 0) assert.equal(plan.title, 'Use the CC loss (ccNll, already in reach)');
        cur = applyPlan(cur, plan, file);
      }
      assert.notEqual(cur, firstCall);
      assert.equal(cur.split(importLine).length, 2, cur);
      assert.equal(cur.match(/ccNll\(logits/g)?.length, 2);
      await assertParsesClean(cur, 'javascript');
      assert.deepEqual(await findingsOf(cur, file), []);
    }
    // A require written without the .js / an import without .mjs is the same module.
    const cjsDone = CJS.replace("backend-cpu');\n", "backend-cpu');\nconst { ccNll } = require('./ccLoss.js');\n");
    assert.equal((await ccFixed(cjsDone, 'LL131', { file: join(DIR, 'train.js') })).plan?.title, 'Use the CC loss (ccNll, already in reach)');
  });

  it('in-file (untitled): CommonJS gets the helper after its requires, with no import, export or module.exports; once', async () => {
    const file = 'untitled:Untitled-1';
    let cur = CJS.replace(/( {2}return )(tf\.losses[^\n]*)/, '  const a = $2\n  const b = $2\n  return tf.add(a, b);');
    for (let i = 0; i < 2; i++) {
      const [f] = (await lintText(cur, 'javascript', file)).findings;
      const plan = await ccLossFix(cur, f, 'javascript', { helperPath: 'ccLoss.js', helperExists: false, inFile: true });
      assert.ok(plan);
      assert.equal(plan.create, undefined);
      cur = applyPlan(cur, plan, file);
    }
    assert.equal(cur.match(/^function ccNll\(/gm)?.length, 1);
    assert.doesNotMatch(cur, /^\s*(?:import|export)\b|module\.exports = \{ ccNll|require\('\.\/ccLoss/m);
    assert.equal(cur.match(/require\('@tensorflow\/tfjs-core'\)/g)?.length, 1, 'the file\'s own tf serves');
    assert.ok(cur.indexOf("require('@tensorflow/tfjs-backend-cpu');") < cur.indexOf('const ccRows = tf.customGrad'), 'after the requires');
    assert.match(cur, /module\.exports = \{ loss \};\n$/);
    await assertParsesClean(cur, 'javascript');
    assert.deepEqual((await lintText(cur, 'javascript', file)).findings, []);
  });

  it('in-file: ESM keeps one tf import and exports nothing new', async () => {
    const { fixed } = await ccFixed(ESM, 'LL131', { file: join(DIR, 'train.mjs'), inFile: true });
    assert.ok(fixed);
    assert.equal(fixed.match(/^import \* as tf/gm)?.length, 1);
    assert.match(fixed, /^function ccNll\(logits, target, reduction = 'mean'\) \{$/m);
    assert.doesNotMatch(fixed, /^export (?:function ccNll|type)|module\.exports/m);
    await assertParsesClean(fixed, 'javascript');
    assert.deepEqual(await findingsOf(fixed, join(DIR, 'train.mjs')), []);
  });
});

describe('use the CC loss: refused forms', () => {
  const py: [RuleCode, string][] = [
    ['LL101', '    return F.cross_entropy(logits, y, label_smoothing=0.1)\n'],
    ['LL102', '    return F.cross_entropy(logits, soft, weight=w)\n'],
    ['LL102', '    return F.cross_entropy(logits, soft, label_smoothing=0.1)\n'],
    ['LL102', '    return F.cross_entropy(logits, soft, reduction=red)\n'],
    ['LL102', '    crit = nn.CrossEntropyLoss(torch.ones(3))\n    return crit(logits, soft)\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits, dim=1)).sum(dim=1, keepdim=True)\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits, dim=1)).sum(dim=-1)\n'],
    ['LL104', '    return -(soft * F.log_softmax(logits)).sum(dim=1)\n'],
    ['LL102', '    cc_nll = 3\n    return F.cross_entropy(logits, soft) + cc_nll\n'],
  ];
  for (const [code, body] of py) {
    it(`${code}: ${body.trim().split('\n').pop()}`, async () => {
      assert.equal((await ccFixed(TORCH + body, code)).plan, undefined);
    });
  }
  it('LL112 with an axis, LL131 with weights or a computed label tensor, or ccNll bound to something else', async () => {
    const tf = 'import tensorflow as tf\n\n\ndef f(z, t):\n    p = tf.nn.softmax(t)\n    return tf.nn.softmax_cross_entropy_with_logits(labels=p, logits=z, axis=1)\n';
    assert.equal((await ccFixed(tf, 'LL112')).plan, undefined);
    const ts = "import * as tf from '@tensorflow/tfjs';\nexport const f = (y: tf.Tensor, z: tf.Tensor, w: tf.Tensor) => [\n";
    for (const call of ['tf.losses.softmaxCrossEntropy(y, z, w, 0.1)', 'tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), z, undefined, 0.1)']) {
      assert.equal((await ccFixed(`${ts}  ${call},\n];\n`, 'LL131', { file: join(DIR, 'a.ts') })).plan, undefined, call);
    }
    const js = "const tf = require('@tensorflow/tfjs');\nconst { ccNll } = require('./losses');\nmodule.exports = (y, z) => tf.losses.softmaxCrossEntropy(y, z, undefined, 0.1);\n";
    assert.equal((await ccFixed(js, 'LL131', { file: join(DIR, 'a.js') })).plan, undefined);
    assert.equal((await ccFixed(js.replace("'./losses'", "'./ccLoss'"), 'LL131', { file: join(DIR, 'a.js') })).plan?.title, 'Use the CC loss (ccNll, already in reach)');
    const local = "import * as tf from '@tensorflow/tfjs';\nexport const f = (y, z, { ccNll }) => tf.losses.softmaxCrossEntropy(y, z, undefined, 0.1);\n";
    assert.equal((await ccFixed(local, 'LL131', { file: join(DIR, 'a.mjs') })).plan, undefined);
  });
  it('a module-level call above the insertion point', async () => {
    const text = 'import torch\nloss = torch.nn.functional.cross_entropy(z, torch.softmax(t, -1))\nimport numpy\n';
    assert.equal((await ccFixed(text, 'LL102')).plan, undefined);
  });
});

describe('suppress on the line', () => {
  it('appends a noqa, extends an existing list, never twice; the finding goes away', async () => {
    const file = join(DIR, 'train.py');
    const cases: [string, string][] = [
      ['    return F.cross_entropy(logits, soft)   \n', '    return F.cross_entropy(logits, soft)  # noqa: LL102\n'],
      ['    return F.cross_entropy(logits, soft)  # noqa: E501\n', '    return F.cross_entropy(logits, soft)  # noqa: E501, LL102\n'],
      ['    return F.cross_entropy(logits, soft) + len("#")  # why\n', '    return F.cross_entropy(logits, soft) + len("#")  # why  # noqa: LL102\n'],
    ];
    for (const [body, want] of cases) {
      const text = TORCH + body;
      const [f] = await findingsOf(text, file, 'LL102');
      const plan = suppressFix(text, f, 'python');
      assert.equal(plan.title, 'Suppress LL102 on this line');
      const fixed = applyPlan(text, plan, file);
      assert.ok(fixed.endsWith(want), fixed);
      assert.deepEqual(await findingsOf(fixed, file, 'LL102'), []);
      assert.deepEqual(suppressFix(fixed, f, 'python').edits[0].edits, []);
    }
  });
  it('TypeScript: // loss-lens-ignore', async () => {
    const file = join(DIR, 'a.ts');
    const text = "import * as tf from '@tensorflow/tfjs';\nexport const f = (y: tf.Tensor, z: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, z, undefined, 0.1); // note\n";
    const [f] = await findingsOf(text, file, 'LL131');
    const fixed = applyPlan(text, suppressFix(text, f, 'typescript'), file);
    assert.match(fixed, /0\.1\); \/\/ note {2}\/\/ loss-lens-ignore LL131\n$/);
    assert.deepEqual(await findingsOf(fixed, file), []);
  });
});

describe('end to end: a rewritten PyTorch LL102 file runs', () => {
  it('gives the core CC loss on the same numbers', async () => {
    const src = readFileSync(join(FIXTURES, 'torch_ll102.py'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'lintfix-'));
    try {
      const file = join(dir, 'torch_ll102.py');
      const [f] = await findingsOf(src, file, 'LL102');
      const plan = await ccLossFix(src, f, 'python', { helperPath: join(dir, 'cc_loss.py'), helperExists: false });
      assert.ok(plan?.create);
      for (const c of plan.create) writeFileSync(c.file, c.content);
      const fixed = applyPlan(src, plan, file);
      assert.match(fixed, /loss = cc_nll\(logits, soft, dim=1\)/);
      writeFileSync(file, fixed);
      const { python } = await torchPython();
      const out = JSON.parse((await runPython(python, [file])).trim()) as { loss: number; z: number[][]; y: number[][] };
      const want = out.z.reduce((s, z, i) => s + ccNll(z, out.y[i]).loss, 0) / out.z.length;
      assert.ok(Number.isFinite(out.loss));
      assert.ok(Math.abs(out.loss - want) < 1e-10 * Math.max(1, Math.abs(want)), `${out.loss} vs ${want}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('end to end: rewritten tfjs JavaScript files run under plain Node', () => {
  const ROOT = resolve(__dirname, '../..');
  const run = promisify(execFile);
  const LABELS = [
    [1, 0, 0, 0],
    [0, 0, 1, 0],
    [0.25, 0.25, 0.5, 0],
  ];
  const LOGITS = [
    [2.5, -1, 0.25, 0.5],
    [0.1, 0.1, 0.1, 0.1],
    [-3, 4, 0.5, 1e-3],
  ];
  // The driver loads the fixed file as the user's code would and prints its loss. (Value only:
  // tfjs-core's CommonJS build registers no gradients, and its register_all_gradients is ESM
  // that plain Node cannot load; the helper's gradient is checked in ccHelperTfjs.test.ts.)
  const driver = (load: string) =>
    [
      "const tf = require('@tensorflow/tfjs-core');",
      "require('@tensorflow/tfjs-backend-cpu');",
      load,
      '(async () => {',
      "  await tf.setBackend('cpu');",
      '  const { loss } = await user();',
      `  const value = loss(tf.tensor2d(${JSON.stringify(LABELS)}), tf.tensor2d(${JSON.stringify(LOGITS)}));`,
      '  console.log(JSON.stringify(Array.from(value.dataSync())));',
      '})();',
      '',
    ].join('\n');

  const cases = [
    {
      name: 'train.js',
      alpha: 0.1,
      reduction: 'sum',
      load: "const user = async () => require('./train.js');",
      src: ["const tf = require('@tensorflow/tfjs-core');", '', 'const LS = 0.1;', '', 'function loss(labels, logits) {', '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, LS, tf.Reduction.SUM);', '}', '', 'module.exports = { loss };', ''],
    },
    {
      name: 'train.mjs',
      alpha: 0.2,
      reduction: 'mean',
      load: "const user = () => import('./train.mjs');",
      src: ["import * as tf from '@tensorflow/tfjs-core';", '', 'export function loss(labels, logits) {', '  return tf.losses.softmaxCrossEntropy(labels, logits, undefined, 0.2);', '}', ''],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the fix's helper and rewritten call give the core CC loss (float32)`, async () => {
      const src = c.src.join('\n');
      const dir = mkdtempSync(join(tmpdir(), 'lintfix-js-'));
      try {
        // The project's node_modules, as a user's project has its own: tfjs-core, no umbrella package.
        symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
        const file = join(dir, c.name);
        const [f] = await findingsOf(src, file, 'LL131');
        const helper = await ccHelperFor('tfjs', 'javascript', file, src);
        const plan = await ccLossFix(src, f, 'javascript', { helperPath: join(dir, helper.fileName), helperExists: false });
        assert.ok(plan?.create);
        for (const x of plan.create) writeFileSync(x.file, x.content);
        writeFileSync(file, applyPlan(src, plan, file));
        writeFileSync(join(dir, 'driver.cjs'), driver(c.load));
        // Plain node: no tsx, no TypeScript loader, so any type left in the helper would fail here.
        const { stdout } = await run(process.execPath, [join(dir, 'driver.cjs')], { cwd: dir });
        const got = JSON.parse(stdout.trim().split('\n').pop()!) as number[];
        // The core's CC loss (float64) at the target tfjs smooths the labels to.
        const rows = LOGITS.map((z, i) => ccNll(z, LABELS[i].map((v) => v * (1 - c.alpha) + c.alpha / z.length)).loss);
        const want = rows.reduce((a, v) => a + v, 0) / (c.reduction === 'sum' ? 1 : rows.length);
        assert.equal(got.length, 1);
        assert.ok(Number.isFinite(got[0]));
        assert.ok(Math.abs(got[0] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `loss ${got[0]} vs ${want}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
