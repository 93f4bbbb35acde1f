import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RULE_CODES } from '../../src/core/lint/types';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
// Run from the fixtures' folder, so that every path printed is relative to it.
const CWD = join(__dirname, '..', 'fixtures', 'lint-cli');

function lint(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'lint', ...args], { cwd: CWD, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Row {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

function json(...args: string[]): { code: number | null; rows: Row[]; stderr: string } {
  const r = lint('--format=json', ...args);
  return { code: r.code, rows: JSON.parse(r.stdout) as Row[], stderr: r.stderr };
}

const where = (rows: Row[]): string[] => rows.map((r) => `${r.file}:${r.line}:${r.code}`);

describe('loss-lens lint (the built CLI, the real engine)', () => {
  it('text: file:line:col: CODE message, a summary; the pyproject ignores LL111 and excludes generated/; exit 1', () => {
    const { code, stdout, stderr } = lint('project');
    assert.equal(code, 1, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, stdout);
    assert.match(lines[0], /^project\/train\.py:9:12: LL101 \S.*$/);
    assert.match(lines[1], /^Found 1 finding \(LL101 ×1\) in 1 of 4 files; 1 file skipped\.$/);
    assert.match(stderr, /project\/broken\.py: could not be parsed .*skipped/);
  });
  it('the broken file is reported and skipped, never fatal; the others are still linted', () => {
    const { code, stdout } = lint('project/broken.py', 'project/train.py');
    assert.equal(code, 1);
    assert.match(stdout, /^project\/train\.py:9:12: LL101/m);
  });
  it('json: an array of {file, line, column, code, message}, 1-based, files relative to the cwd', () => {
    const { code, rows, stderr } = json('project', '--no-config');
    assert.equal(code, 1);
    assert.match(stderr, /project\/broken\.py: could not be parsed/, 'the broken file on stderr, the array kept clean');
    assert.deepEqual(where(rows), ['project/generated/model_gen.py:3:LL101', 'project/keras_train.py:6:LL111', 'project/train.py:9:LL101']);
    for (const r of rows) {
      assert.deepEqual(Object.keys(r), ['file', 'line', 'column', 'code', 'message']);
      assert.ok(Number.isInteger(r.line) && r.line >= 1 && Number.isInteger(r.column) && r.column >= 1);
      assert.ok(typeof r.message === 'string' && r.message.length > 0);
    }
    assert.equal(rows[1].column, 10, 'keras.losses.CategoricalCrossentropy( starts at column 10');
  });
  it('--select and --ignore take codes and prefixes; a flag replaces the pyproject key', () => {
    assert.deepEqual(where(json('project', '--no-config', '--select=LL11').rows), ['project/keras_train.py:6:LL111']);
    assert.deepEqual(where(json('project', '--no-config', '--select=LL1', '--ignore=LL10').rows), ['project/keras_train.py:6:LL111']);
    // --ignore replaces the pyproject's ignore = ["LL111"]; its exclude still holds.
    assert.deepEqual(where(json('project', '--ignore=LL101').rows), ['project/keras_train.py:6:LL111']);
    const none = json('project', '--ignore=LL1');
    assert.equal(none.code, 0);
    assert.deepEqual(none.rows, []);
    assert.deepEqual(where(json('project', '--no-config', '--extend-ignore=LL111,ll101').rows), []);
  });
  it('--exclude may be repeated and replaces the pyproject exclude', () => {
    const { rows } = json('project', '--exclude=train.py', '--exclude=keras_*.py');
    assert.deepEqual(where(rows), ['project/generated/model_gen.py:3:LL101']);
  });
  it('exit 0 and a clean summary where nothing is found (Python and TypeScript)', () => {
    const { code, stdout, stderr } = lint('clean');
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'No findings in 2 files.\n');
    assert.equal(stderr, '');
  });
  it('exit 2 on errors: no path, a missing path, a bad option, format or code, a malformed pyproject', () => {
    const cases: [string[], RegExp][] = [
      [[], /give at least one file or folder/],
      [['nowhere.py'], /path not found: nowhere\.py/],
      [['project', '--frobnicate'], /unknown option --frobnicate/],
      [['project', '--format=xml'], /--format must be one of text, json, sarif/],
      [['project', '--select=LL9'], /--select: 'LL9' is not a rule code or prefix/],
      [['project', '--select'], /--select needs a value/],
    ];
    for (const [args, re] of cases) {
      const r = lint(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
    const dir = mkdtempSync(join(tmpdir(), 'loss-lens-lint-cli-'));
    try {
      writeFileSync(join(dir, 'pyproject.toml'), '[tool.loss-lens]\nselect = ["LL101"]\nseverity = { LL101 = "loud" }\n');
      writeFileSync(join(dir, 'a.py'), 'x = 1\n');
      const r = lint(dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /pyproject\.toml:3: \[tool\.loss-lens\] severity\.LL101: expected one of/);
      assert.equal(lint(dir, '--no-config').code, 0, '--no-config does not read it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("each file takes the nearest pyproject above it, not only the PATH's (as the editor and Ruff do)", () => {
    // workspace/lint/configured/pyproject.toml ignores LL102 for distill.py; linting the parent
    // folder (whose own walk finds no pyproject) must still apply it.
    const r = json(join('..', 'workspace', 'lint'));
    const codes = r.rows.map((x) => `${x.file.split('/').slice(-2).join('/')}:${x.code}`).sort();
    assert.deepEqual(codes, ['configured/distill.py:LL101', 'lint/train.py:LL101', 'lint/train.py:LL102', 'lint/train.ts:LL131']);
  });

  it('--jobs=N lints in N worker threads with the same output as one thread; a bad N is a usage error', () => {
    const one = lint('--format=json', '--jobs=1', '.');
    const two = lint('--format=json', '--jobs=2', '.');
    assert.equal(two.code, one.code);
    assert.equal(two.stdout, one.stdout);
    assert.ok((JSON.parse(two.stdout) as Row[]).length > 0);
    for (const bad of ['0', '1.5', 'many']) {
      const r = lint(`--jobs=${bad}`, '.');
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--jobs must be a whole number from 1 to 64/);
    }
  });

  it('--help and the top-level help describe lint', () => {
    assert.match(lint('--help').stdout, /--format=FORMAT/);
    const top = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.match(top.stdout, /^ {2}lint {9}/m);
    assert.match(top.stdout, /loss-lens lint PATH\.\.\./);
  });
  it('sarif: a structurally valid SARIF 2.1.0 log with rules, results, levels and the broken file as a notification', () => {
    const r = lint('project', '--format=sarif');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '', 'SARIF reports problems inside the log');
    const log = JSON.parse(r.stdout) as SarifLog;
    checkSarif(log);
    const run = log.runs[0];
    assert.equal(run.tool.driver.name, 'Loss Lens');
    assert.deepEqual(run.tool.driver.rules.map((x) => x.id), [...RULE_CODES]);
    assert.equal(run.tool.driver.rules[0].helpUri.split('#')[1], 'll101');
    assert.equal(run.results.length, 1);
    const [res] = run.results;
    assert.equal(res.ruleId, 'LL101');
    assert.equal(res.level, 'error', 'severity = { LL101 = "error" } in the pyproject');
    const loc = res.locations[0].physicalLocation;
    assert.deepEqual(loc.artifactLocation, { uri: 'project/train.py', uriBaseId: '%SRCROOT%' });
    assert.equal(loc.region.startLine, 9);
    assert.equal(loc.region.startColumn, 12);
    const notes = run.invocations[0].toolExecutionNotifications;
    assert.equal(notes.length, 1);
    assert.match(notes[0].message.text, /broken\.py/);
    assert.equal(notes[0].locations?.[0].physicalLocation.artifactLocation.uri, 'project/broken.py');
  });
  it('sarif with no findings: an empty results array, exit 0', () => {
    const r = lint('clean', '--format=sarif');
    assert.equal(r.code, 0);
    const log = JSON.parse(r.stdout) as SarifLog;
    checkSarif(log);
    assert.deepEqual(log.runs[0].results, []);
  });
});

interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: Record<string, number> };
}
interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; helpUri: string }[] } };
    results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: SarifLocation[] }[];
    invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string }; locations?: SarifLocation[] }[] }[];
    originalUriBaseIds: Record<string, { uri: string }>;
  }[];
}

/**
 * The SARIF 2.1.0 schema's required properties and types for what the log uses (sarifLog,
 * run, tool, toolComponent, reportingDescriptor, result, location, region, invocation,
 * notification). The full schema (136 KB) is not vendored; this checks the constraints a
 * code-scanning upload rejects on.
 */
function checkSarif(log: SarifLog): void {
  const isObj = (v: unknown, what: string): Record<string, unknown> => {
    assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} must be an object`);
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, what: string): void => assert.equal(typeof v, 'string', `${what} must be a string`);
  const uri = (v: unknown, what: string): void => {
    str(v, what);
    assert.doesNotThrow(() => new URL(v as string), `${what} must be an absolute URI`);
  };
  const message = (m: unknown, what: string): void => str(isObj(m, what).text, `${what}.text`);
  const posInt = (v: unknown, what: string): void => assert.ok(Number.isInteger(v) && (v as number) >= 1, `${what} must be an integer ≥ 1`);
  const LEVELS = ['none', 'note', 'warning', 'error'];

  isObj(log, 'log');
  assert.equal(log.version, '2.1.0');
  uri(log.$schema, '$schema');
  assert.ok(Array.isArray(log.runs) && log.runs.length === 1, 'one run');
  const run = log.runs[0];
  const driver = isObj(isObj(run.tool, 'run.tool').driver, 'tool.driver');
  str(driver.name, 'driver.name');
  uri(driver.informationUri, 'driver.informationUri');
  str(driver.version, 'driver.version');
  assert.ok(Array.isArray(driver.rules));
  const ids = new Set<string>();
  for (const [i, rule] of (driver.rules as unknown[]).entries()) {
    const r = isObj(rule, `rules[${i}]`);
    str(r.id, `rules[${i}].id`);
    assert.ok(!ids.has(r.id as string), 'rule ids are unique');
    ids.add(r.id as string);
    message(r.shortDescription, `rules[${i}].shortDescription`);
    message(r.fullDescription, `rules[${i}].fullDescription`);
    uri(r.helpUri, `rules[${i}].helpUri`);
    assert.ok(LEVELS.includes(isObj(r.defaultConfiguration, 'defaultConfiguration').level as string));
  }
  for (const [base, loc] of Object.entries(isObj(run.originalUriBaseIds, 'originalUriBaseIds'))) {
    const u = isObj(loc, base).uri as string;
    uri(u, `originalUriBaseIds.${base}`);
    assert.ok(u.endsWith('/'), 'a base URI ends with a slash');
  }
  const physical = (l: SarifLocation, what: string, withRegion: boolean): void => {
    const a = isObj(isObj(l.physicalLocation, `${what}.physicalLocation`).artifactLocation, `${what}.artifactLocation`);
    str(a.uri, `${what}.uri`);
    assert.ok(!(a.uri as string).startsWith('/') && !(a.uri as string).includes('..'), 'a relative uri under its base');
    assert.ok(a.uriBaseId === undefined || (a.uriBaseId as string) in run.originalUriBaseIds, 'uriBaseId is declared');
    if (!withRegion) return;
    const r = l.physicalLocation.region;
    for (const k of ['startLine', 'startColumn', 'endLine', 'endColumn']) posInt(r[k], `${what}.region.${k}`);
    assert.ok(r.endLine > r.startLine || (r.endLine === r.startLine && r.endColumn > r.startColumn), `${what}: a non-empty region`);
  };
  assert.ok(Array.isArray(run.results));
  for (const [i, res] of run.results.entries()) {
    message(res.message, `results[${i}].message`);
    assert.ok(ids.has(res.ruleId), `results[${i}].ruleId is a rule`);
    assert.equal((driver.rules as { id: string }[])[res.ruleIndex].id, res.ruleId, 'ruleIndex points at ruleId');
    assert.ok(LEVELS.includes(res.level));
    assert.ok(res.locations.length >= 1);
    res.locations.forEach((l, j) => physical(l, `results[${i}].locations[${j}]`, true));
  }
  assert.equal(run.invocations.length, 1);
  const inv = run.invocations[0];
  assert.equal(typeof inv.executionSuccessful, 'boolean', 'invocation.executionSuccessful is required');
  for (const [i, n] of inv.toolExecutionNotifications.entries()) {
    message(n.message, `notifications[${i}].message`);
    n.locations?.forEach((l, j) => physical(l, `notifications[${i}].locations[${j}]`, false));
  }
}
