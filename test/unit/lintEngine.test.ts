import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { languageOf, lintText } from '../../src/core/lint/engine';
import { RULES } from '../../src/core/lint/rules';
import { RULE_CODES, type LintOptions } from '../../src/core/lint/types';

const DIR = join(__dirname, '..', 'fixtures', 'lint');

/** `# expect: LL101, LL102` / `// expect: LL131` on a line: the findings that line must have (and no others). */
function expected(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /(?:#|\/\/) expect: ([A-Z0-9, ]+)/.exec(l);
    if (m) for (const code of m[1].split(/[\s,]+/).filter(Boolean)) out.push(`${i + 1} ${code}`);
  });
  return out.sort();
}

async function lintFixture(name: string, opts?: LintOptions) {
  const text = readFileSync(join(DIR, name), 'utf8');
  const lang = languageOf(name);
  assert.ok(lang, name);
  return { text, result: await lintText(text, lang, name, opts) };
}

describe('lint fixtures: findings exactly where `expect` comments say', () => {
  const files = readdirSync(DIR).filter((f) => languageOf(f) && f !== 'broken.py');
  for (const f of files) {
    it(f, async () => {
      const { text, result } = await lintFixture(f);
      assert.equal(result.parseError, undefined);
      const got = result.findings.map((x) => `${x.line} ${x.code}`).sort();
      assert.deepEqual(got, expected(text));
      for (const x of result.findings) {
        assert.equal(x.file, f);
        assert.equal(x.framework, RULES[x.code].framework === 'pytorch' && x.code === 'LL104' ? x.framework : RULES[x.code].framework);
        assert.match(x.message, /simplex-valued/);
        assert.ok(x.endLine > x.line || (x.endLine === x.line && x.endColumn > x.column));
      }
    });
  }
  it('covers every Python and TS rule with a positive case', async () => {
    const seen = new Set<string>();
    for (const f of files) for (const x of (await lintFixture(f)).result.findings) seen.add(x.code);
    assert.deepEqual([...seen].sort(), [...RULE_CODES]);
  });
});

describe('lint details', () => {
  it('spans the flagged call (1-based, UTF-16 columns)', async () => {
    const src = 'import torch.nn.functional as F\nz = "é" + F.cross_entropy(a, b, label_smoothing=0.1)\n';
    const [f] = (await lintText(src, 'python', 'x.py')).findings;
    assert.deepEqual([f.line, f.column, f.endLine, f.endColumn, f.code], [2, 11, 2, 53, 'LL101']);
  });
  it('says when reduction is mean or omitted (LL103)', async () => {
    const { result } = await lintFixture('distill.py');
    const byLine = new Map(result.findings.map((x) => [x.line, x.message]));
    assert.doesNotMatch(byLine.get(22) ?? '', /reduction=/);
    assert.match(byLine.get(23) ?? '', /reduction='mean' \(the default\).*'batchmean'/);
    assert.match(byLine.get(29) ?? '', /reduction='mean' averages/);
  });
  it('fills literalTarget from a literal target', async () => {
    const { result } = await lintFixture('torch_train.py');
    const lit = result.findings.find((x) => x.line === 66);
    assert.deepEqual(lit?.literalTarget, [0.1, 0.9]);
    assert.equal(result.findings.find((x) => x.line === 65)?.literalTarget, undefined);
  });
  it('names the source of a soft target', async () => {
    const { result } = await lintFixture('notebook_export.py');
    assert.match(result.findings.find((x) => x.code === 'LL102')?.message ?? '', /mixed targets of Mixup \(line 39\)/);
  });
  it('selects and ignores by code or prefix', async () => {
    const codes = async (opts: LintOptions) => [...new Set((await lintFixture('distill.py', opts)).result.findings.map((x) => x.code))].sort();
    assert.deepEqual(await codes({}), ['LL102', 'LL103', 'LL104']);
    assert.deepEqual(await codes({ select: ['LL103'] }), ['LL103']);
    assert.deepEqual(await codes({ select: ['LL10'], ignore: ['LL103'] }), ['LL102', 'LL104']);
    assert.deepEqual(await codes({ ignore: ['LL1'] }), []);
    assert.deepEqual(await codes({ select: ['ll104'] }), ['LL104']);
  });
  it('reports an unparseable file as parseError without throwing', async () => {
    const { result } = await lintFixture('broken.py');
    assert.match(result.parseError ?? '', /syntax errors cover \d+% of the file \(first at line 1\)/);
    assert.deepEqual(result.findings, []);
    assert.match((await lintText('x = 1\0\0', 'python', 'bin.py')).parseError ?? '', /NUL/);
    assert.match((await lintText('{{{{ ]]]] ))) <<< >>>', 'typescript', 'x.ts')).parseError ?? '', /syntax errors/);
  });
  it('keeps linting around a local syntax error, dropping only findings it touches', async () => {
    // A long, valid file with one broken call in it: the rest still counts.
    const good = readFileSync(join(DIR, 'torch_train.py'), 'utf8');
    const src = `${good}\nbroken = F.cross_entropy(x, y, label_smoothing=0.1, ]\n`;
    const r = await lintText(src, 'python', 'x.py');
    assert.equal(r.parseError, undefined);
    assert.deepEqual(
      r.findings.map((x) => `${x.line} ${x.code}`).sort(),
      expected(good),
    );
  });
  it('reads TSX with JSX in it (LL131)', async () => {
    const src = [
      "import * as tf from '@tensorflow/tfjs';",
      'export const Loss = ({ y, z }: { y: tf.Tensor; z: tf.Tensor }) => {',
      '  const l = tf.losses.softmaxCrossEntropy(y, z, undefined, 0.1);',
      '  return <span title="loss">{String(l)}</span>;',
      '};',
      '',
    ].join('\n');
    const r = await lintText(src, 'tsx', 'Loss.tsx');
    assert.deepEqual(r.findings.map((x) => [x.line, x.column, x.code]), [[3, 13, 'LL131']]);
  });
  it("resolves `require('@tensorflow/tfjs-node')` in JavaScript (LL131), and nothing named alike", async () => {
    // Inline rather than a fixture file: the repository's eslint would type-check a .js fixture.
    const src = [
      "const tf = require('@tensorflow/tfjs-node');",
      'const other = { losses: { softmaxCrossEntropy: () => 0 } };',
      'function loss(labels, logits) {',
      '  other.losses.softmaxCrossEntropy(labels, logits, undefined, 0.3);',
      '  return tf.losses.softmaxCrossEntropy(labels, logits, null, 0.2);',
      '}',
      '',
    ].join('\n');
    const r = await lintText(src, 'javascript', 'loss.js');
    assert.deepEqual(r.findings.map((x) => [x.line, x.code, x.framework]), [[5, 'LL131', 'tfjs']]);
  });
  it('lints empty text', async () => {
    assert.deepEqual(await lintText('', 'python', 'e.py'), { findings: [] });
  });
  it('maps file extensions to languages', () => {
    const cases: [string, string | undefined][] = [
      ['a.py', 'python'], ['a.pyi', 'python'], ['A.PY', 'python'], ['a.ts', 'typescript'], ['a.mts', 'typescript'],
      ['a.cts', 'typescript'], ['a.tsx', 'tsx'], ['a.js', 'javascript'], ['a.mjs', 'javascript'], ['a.cjs', 'javascript'],
      ['a.jsx', 'javascript'], ['a.ipynb', undefined], ['py', undefined], ['dir.py/readme', undefined], ['a.d.ts', 'typescript'],
    ];
    for (const [p, lang] of cases) assert.equal(languageOf(p), lang, p);
  });
  it('documents every rule', () => {
    for (const code of RULE_CODES) {
      const r = RULES[code];
      assert.equal(r.code, code);
      assert.ok(r.summary.length > 10);
      assert.match(r.explanation, /normalized likelihood/);
      assert.match(r.explanation, /Near-uniform hazard/);
      assert.match(r.explanation, /suppressing is fine/);
      assert.match(r.explanation, code === 'LL131' ? /loss-lens-ignore LL131/ : new RegExp(`# noqa: ${code}`));
    }
  });
});
