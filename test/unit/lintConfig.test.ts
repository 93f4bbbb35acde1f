import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LintConfigError, isValidSelector, lineOf, loadLintConfig, mergeLintSettings, parseLintConfig } from '../../src/core/lint/config';

const FILE = '/proj/pyproject.toml';

/** Runs `fn`, which must throw a LintConfigError, and returns it. */
function configError(fn: () => unknown): LintConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LintConfigError, `expected a LintConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a LintConfigError, nothing was thrown');
}

describe('lint config: parsing [tool.loss-lens]', () => {
  it('reads every key, upper-cases selectors, keeps globs as written', () => {
    const text = `[project]
name = "demo"

[tool.ruff]
select = ["E"]

[tool.loss-lens]
select = ["ll1"]
extend-select = ["LL131"]
ignore = ["LL105"]
extend-ignore = ["LL11"]
exclude = ["legacy", "gen/**/*.py"]
severity = { LL101 = "hint", ll102 = "error" }
`;
    assert.deepEqual(parseLintConfig(text, FILE), {
      select: ['LL1'],
      extendSelect: ['LL131'],
      ignore: ['LL105'],
      extendIgnore: ['LL11'],
      exclude: ['legacy', 'gen/**/*.py'],
      severity: { LL101: 'hint', LL102: 'error' },
    });
  });
  it('a quoted table name and a [tool.loss-lens.severity] subtable are the same table', () => {
    const text = '[tool."loss-lens"]\nignore = [\'LL113\']\n\n[tool.loss-lens.severity]\nLL131 = "information"\n';
    assert.deepEqual(parseLintConfig(text, FILE), { ignore: ['LL113'], severity: { LL131: 'information' } });
  });
  it('undefined when there is no table; an empty table is an empty config', () => {
    assert.equal(parseLintConfig('[tool.ruff]\nselect = ["E"]\n', FILE), undefined);
    assert.equal(parseLintConfig('', FILE), undefined);
    assert.deepEqual(parseLintConfig('[tool.loss-lens]\n', FILE), {});
  });
  it('malformed TOML: the file and the line in the message', () => {
    const e = configError(() => parseLintConfig('[tool.loss-lens]\nselect = ["LL1"\nignore = []\n', FILE));
    assert.equal(e.file, FILE);
    assert.equal(e.line, 3);
    assert.match(e.message, /^\/proj\/pyproject\.toml:3: invalid TOML/);
  });
  it('a wrong type, an unknown code, an unknown key, a bad severity: each with its line', () => {
    const cases: [string, number, RegExp][] = [
      ['[tool.loss-lens]\n\nselect = "LL101"\n', 3, /select: expected an array of strings/],
      ['[tool.loss-lens]\nignore = ["LL999"]\n', 2, /ignore: 'LL999' is not a rule code or prefix/],
      ['[tool.loss-lens]\nselect = ["LL1"]\nselct = ["LL1"]\n', 3, /unknown key 'selct'/],
      ['[tool.loss-lens]\nexclude = [1]\n', 2, /exclude: expected an array of strings/],
      ['[tool.loss-lens]\nselect = []\nseverity = "error"\n', 3, /severity: expected a table/],
      ['[tool.loss-lens]\n[tool.loss-lens.severity]\nLL101 = "warning"\nLL102 = "fatal"\n', 4, /severity\.LL102: expected one of "error"/],
      ['[tool.loss-lens]\nseverity.LL101 = "hint"\nseverity.LL777 = "hint"\n', 3, /'LL777' is not a rule code/],
      ['[tool]\nloss-lens = 3\n', 1, /must be a table/],
    ];
    for (const [text, line, re] of cases) {
      const e = configError(() => parseLintConfig(text, FILE));
      assert.match(e.message, re, text);
      if (line === 1) continue; // a dotted key outside the table: the line may not be found
      assert.equal(e.line, line, text);
      assert.ok(e.message.startsWith(`${FILE}:${line}: [tool.loss-lens]`), e.message);
    }
  });
  it('lineOf finds keys in inline tables, dotted keys and subtables', () => {
    const text = '[tool.loss-lens]\nselect = []\nseverity = { LL101 = "x" }\n\n[tool.loss-lens.severity]\nLL102 = "y"\n';
    assert.equal(lineOf(text, ['select']), 2);
    assert.equal(lineOf(text, ['severity', 'LL101']), 3);
    assert.equal(lineOf(text, ['nothing']), 1, 'falls back to the header');
  });
  it('selectors: codes and their prefixes, never a typo', () => {
    for (const s of ['LL', 'LL1', 'll10', 'LL101', 'LL13']) assert.ok(isValidSelector(s), s);
    for (const s of ['', 'L', 'LL2', 'LL1011', 'E501', 'ALL']) assert.ok(!isValidSelector(s), s);
  });
});

describe('lint config: the nearest pyproject.toml', () => {
  const root = mkdtempSync(join(tmpdir(), 'loss-lens-config-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  // root/pyproject.toml (with the table) > a/pyproject.toml (without) > a/b/c/x.py
  writeFileSync(join(root, 'pyproject.toml'), '[tool.loss-lens]\nignore = ["LL105"]\n');
  mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(root, 'a', 'pyproject.toml'), '[project]\nname = "a"\n');
  writeFileSync(join(root, 'a', 'b', 'c', 'x.py'), 'x = 1\n');
  mkdirSync(join(root, 'own'));
  writeFileSync(join(root, 'own', 'pyproject.toml'), '[tool.loss-lens]\nselect = ["LL12"]\n');
  mkdirSync(join(root, 'bad'));
  writeFileSync(join(root, 'bad', 'pyproject.toml'), '[tool.loss-lens\n');

  it('from a file, walks up past a pyproject without the table to the one with it', async () => {
    const c = await loadLintConfig(join(root, 'a', 'b', 'c', 'x.py'));
    assert.equal(c?.file, join(root, 'pyproject.toml'));
    assert.equal(c?.root, root);
    assert.deepEqual(c?.config, { ignore: ['LL105'] });
  });
  it('from a folder, its own pyproject first', async () => {
    const c = await loadLintConfig(join(root, 'own'));
    assert.equal(c?.file, join(root, 'own', 'pyproject.toml'));
    assert.deepEqual(c?.config, { select: ['LL12'] });
  });
  it('a malformed pyproject on the way is an error, not passed over', async () => {
    await assert.rejects(loadLintConfig(join(root, 'bad')), (e: unknown) => e instanceof LintConfigError && e.line === 1);
  });
  it('undefined where no pyproject above has the table', async () => {
    const lone = mkdtempSync(join(tmpdir(), 'loss-lens-config-none-'));
    try {
      // tmpdir's ancestors are assumed to hold no pyproject.toml with a [tool.loss-lens] table.
      assert.equal(await loadLintConfig(lone), undefined);
    } finally {
      rmSync(lone, { recursive: true, force: true });
    }
  });
});

describe('lint config: merging CLI flags / editor settings over the pyproject', () => {
  const loaded = {
    file: '/p/pyproject.toml',
    root: '/p',
    config: {
      select: ['LL1'],
      extendSelect: ['LL131'],
      ignore: ['LL105'],
      extendIgnore: ['LL113'],
      exclude: ['legacy'],
      severity: { LL101: 'hint' as const, LL102: 'error' as const },
    },
  };
  it('no overrides: the pyproject, extend-* folded into select/ignore, excludes relative to its folder', () => {
    assert.deepEqual(mergeLintSettings(loaded, {}, '/cwd'), {
      options: { select: ['LL1', 'LL131'], ignore: ['LL105', 'LL113'] },
      exclude: [{ base: '/p', patterns: ['legacy'] }],
      severity: { LL101: 'hint', LL102: 'error' },
    });
  });
  it('a given key replaces the pyproject key with its extend list; the caller’s extend-* add', () => {
    const s = mergeLintSettings(loaded, { select: ['LL12'], extendIgnore: ['LL121'], exclude: ['gen'], severity: { LL101: 'warning' } }, '/cwd');
    assert.deepEqual(s.options, { select: ['LL12'], ignore: ['LL105', 'LL113', 'LL121'] });
    assert.deepEqual(s.exclude, [{ base: '/cwd', patterns: ['gen'] }]);
    assert.deepEqual(s.severity, { LL101: 'warning', LL102: 'error' });
    assert.deepEqual(mergeLintSettings(loaded, { ignore: [] }, '/cwd').options, { select: ['LL1', 'LL131'] });
  });
  it('no pyproject: every rule, nothing excluded; extend-select alone adds nothing to "all"', () => {
    assert.deepEqual(mergeLintSettings(undefined, {}, '/cwd'), { options: {}, exclude: [], severity: {} });
    assert.deepEqual(mergeLintSettings(undefined, { extendSelect: ['LL101'] }, '/cwd').options, {});
    const noSelect = { ...loaded, config: { extendSelect: ['LL101'] } };
    assert.deepEqual(mergeLintSettings(noSelect, {}, '/cwd').options, {});
  });
});
