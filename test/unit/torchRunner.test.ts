/**
 * runTorchJob's process handling, with stand-in children (shell scripts) so that every
 * failure is deterministic: bad stdout lines, a child that dies, an exe that does not exist.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { TorchJob, TorchMessage } from '../../src/shared/probeProtocol';
import { parseTorchLine, runTorchJob } from '../../src/probe/torch/torchRunner';

const dir = mkdtempSync(join(tmpdir(), 'loss-lens-torch-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fakePython(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const job = { runs: [], workDir: dir } as unknown as TorchJob;

describe('parseTorchLine', () => {
  it('passes protocol messages through and turns anything else into an error that quotes the line', () => {
    assert.deepEqual(parseTorchLine('{"type":"eval","runId":"a","step":3,"path":"/x.npy"}'), { type: 'eval', runId: 'a', step: 3, path: '/x.npy' });
    for (const bad of ['Traceback (most recent call last):', '{"type":"nope"}', '[1,2]', '{"type":']) {
      const m = parseTorchLine(bad);
      assert.ok(m.type === 'error' && m.message.includes(bad), JSON.stringify(m));
    }
  });
});

describe('runTorchJob', () => {
  it('hands the job to stdin as one JSON line, sets PYTHONPATH to the package folder, and parses lines split across chunks', async () => {
    const seen = join(dir, 'seen');
    const py = fakePython(
      'echoer',
      `echo "$PYTHONPATH" > ${seen}.path; head -n 1 > ${seen}.job; printf '{"type":"hel'; sleep 0.1; printf 'lo","torch":"9","device":"CPU","python":"3"}\\nnot json\\n\\n'; printf '{"type":"error","message":"last, no newline"}'`,
    );
    const messages: TorchMessage[] = [];
    const r = await runTorchJob(py, job, (m) => messages.push(m));
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(readFileSync(`${seen}.job`, 'utf8')), job);
    assert.equal(readFileSync(`${seen}.path`, 'utf8').trim().split(delimiter)[0], join(__dirname, '..', '..', 'python'));
    assert.deepEqual(messages[0], { type: 'hello', torch: '9', device: 'CPU', python: '3' });
    assert.ok(messages[1].type === 'error' && messages[1].message.includes('not json'));
    assert.deepEqual(messages[2], { type: 'error', message: 'last, no newline' });
    assert.equal(messages.length, 3, 'blank lines are skipped');
  });

  it('resolves with the exit status and the stderr tail when the child dies', async () => {
    const py = fakePython('dies', `echo 'Killed: out of memory' >&2; kill -9 $$`);
    const r = await runTorchJob(py, job, () => undefined);
    assert.equal(r.code, null, 'killed by a signal');
    assert.equal(r.signal, 'SIGKILL');
    assert.match(r.stderrTail, /out of memory/);
  });

  it('resolves (not rejects) when the interpreter does not exist', async () => {
    const r = await runTorchJob(join(dir, 'no-python'), job, () => undefined);
    assert.equal(r.code, null);
    assert.match(r.stderrTail, /cannot start .*no-python.*ENOENT/);
  });

  it('kills a child that ignores SIGTERM with SIGKILL after 500 ms, and reports its pid', async () => {
    const py = fakePython('stubborn', `trap '' TERM; echo '{"type":"hello","torch":"9","device":"CPU","python":"3"}'; while :; do sleep 0.05; done`);
    const ac = new AbortController();
    let pid: number | null = null;
    let abortedAt = 0;
    const r = await runTorchJob(
      py,
      job,
      (m) => {
        if (m.type === 'hello') {
          abortedAt = Date.now();
          ac.abort();
        }
      },
      { signal: ac.signal, onPid: (p) => (pid = p) },
    );
    const took = Date.now() - abortedAt;
    assert.ok(typeof pid === 'number' && pid > 0);
    assert.ok(took >= 450 && took < 1500, `ended ${took} ms after the abort`);
    assert.equal(r.code, null);
  });
});
