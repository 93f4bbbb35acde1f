import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ccMean, naiveLogC } from '../../src/core';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function run(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('loss-lens normalizer (the built CLI)', () => {
  before(() => assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build first`));

  it('--eta --json prints the documented object at full float64 precision', () => {
    const { code, stdout } = run(['normalizer', '--eta=1,0', '--json']);
    assert.equal(code, 0);
    const o = JSON.parse(stdout) as Record<string, unknown> & { naive: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(o), ['K', 'logC', 'mean', 'naive', 'nearUniform']);
    assert.equal(o.K, 2);
    const expected = ccMean([1, 0]);
    assert.equal(o.logC, expected.logC);
    assert.deepEqual(o.mean, Array.from(expected.mean));
    assert.deepEqual(Object.keys(o.naive.float64), ['logC', 'digitsLost', 'errorNats']);
    assert.equal(o.naive.float64.logC, naiveLogC([1, 0], 'float64'));
    assert.equal(o.naive.float32.logC, naiveLogC([1, 0], 'float32'));
    assert.equal(o.nearUniform, false);
  });
  it('--lambda takes probabilities, normalized or not', () => {
    const a = JSON.parse(run(['normalizer', '--lambda=0.2,0.3,0.5', '--json']).stdout) as { logC: number };
    const b = JSON.parse(run(['normalizer', '--lambda=2,3,5', '--json']).stdout) as { logC: number };
    // C(c·λ) = C(λ)/c for the unnormalized parameter: log C differs by log 10.
    assert.ok(Math.abs(a.logC - b.logC - Math.log(10)) < 1e-13);
  });
  it('uniform λ: naive is null (NaN), every digit lost, near-uniform', () => {
    const o = JSON.parse(run(['normalizer', '--eta=0,0,0', '--json']).stdout) as {
      logC: number;
      naive: { float64: { logC: null; digitsLost: number } };
      nearUniform: boolean;
    };
    assert.ok(Math.abs(o.logC - Math.log(2)) < 1e-15);
    assert.equal(o.naive.float64.logC, null);
    assert.ok(o.naive.float64.digitsLost > 15.9);
    assert.equal(o.nearUniform, true);
  });
  it('prints a readable summary without --json', () => {
    const { code, stdout } = run(['normalizer', '--lambda=0.1,0.2,0.7']);
    assert.equal(code, 0);
    assert.match(stdout, /input: probabilities λ/);
    assert.match(stdout, /log C\(λ\) = 2\.03281663914/);
    assert.match(stdout, /naive float32: .* loses \d\.\d of 7\.2 digits/);
    assert.match(stdout, /near-uniform: no/);
  });
  it('--method=naive and --no-mean', () => {
    const n = JSON.parse(run(['normalizer', '--eta=0.5,0,2', '--method=naive']).stdout) as Record<string, unknown>;
    assert.deepEqual(n, { K: 3, logC: naiveLogC([0.5, 0, 2]), method: 'naive' });
    const m = JSON.parse(run(['normalizer', '--eta=0.5,0,2', '--no-mean', '--json']).stdout) as Record<string, unknown>;
    assert.equal(m.mean, undefined);
    assert.equal(m.logC, ccMean([0.5, 0, 2]).logC);
  });
  it('exit 2 with the bad value and its position', () => {
    const cases: [string[], RegExp][] = [
      [['normalizer', '--eta=0,nan,1'], /entry 2 \('nan'\) is not a finite number/],
      [['normalizer', '--lambda=0.5,-0.5,1'], /λ\[1\] = -0.5 is negative/],
      [['normalizer', '--eta=3'], /K ≥ 2/],
      [['normalizer'], /exactly one of --eta/],
      [['normalizer', '--eta=1,2', '--bogus'], /unknown option --bogus/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr, stdout } = run(args);
      assert.equal(code, 2, `${args.join(' ')}: exit ${code}, stderr ${stderr}`);
      assert.match(stderr, message);
      assert.equal(stdout, '');
    }
  });
  it('--file streams one JSON line per vector, and names the line of a bad vector', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loss-lens-'));
    const file = join(dir, 'v.txt');
    writeFileSync(file, '[1, 0]\n# a comment\n\n0.1, 0.2, 0.3\n[0, 0, 0, 0]\n');
    const { code, stdout } = run(['normalizer', `--file=${file}`, '--no-naive']);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { K: number; logC: number; mean: number[] });
    assert.deepEqual(lines.map((l) => l.K), [2, 3, 4]);
    assert.equal(lines[0].logC, ccMean([1, 0]).logC);
    writeFileSync(file, '[1, 0]\n[1, 2, inf]\n');
    const bad = run(['normalizer', `--file=${file}`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /v\.txt:2: vector: entry 3 \('inf'\) is not a finite number/);
    assert.equal(bad.stdout.trim().split('\n').length, 1, 'the good line before it was already written');
    const stdin = run(['normalizer', '--file=-', '--input=infer', '--no-naive', '--no-mean'], '0.25,0.75\n1,2\n');
    const [p, l] = stdin.stdout.trim().split('\n').map((x) => JSON.parse(x) as { logC: number });
    assert.equal(p.logC, ccMean([Math.log(0.25), Math.log(0.75)]).logC, 'read as probabilities');
    assert.equal(l.logC, ccMean([1, 2]).logC, 'read as logits');
    assert.equal(run(['normalizer', '--file=/nonexistent/x.txt']).code, 2);
  });
});
