/**
 * The files the PyTorch worker reads (.npy written here, read by numpy) and finding an
 * interpreter with PyTorch.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readNpyFloat32 } from '../../src/probe/npyRead';
import { encodeNpy, writeNpy } from '../../src/probe/torch/npyWrite';
import { findPython } from '../../src/probe/torch/python';
import { runPython, torchPython } from '../fixtures/torch/torchEnv';

const dir = mkdtempSync(join(tmpdir(), 'loss-lens-torch-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('writeNpy', () => {
  it('numpy reads float32 and int32 arrays of 1 to 4 dimensions with their shape, dtype and values', async () => {
    const { python } = await torchPython();
    const cases: { name: string; data: Float32Array | Int32Array; shape: number[] }[] = [
      { name: 'f1', data: Float32Array.from([1.5, -2, 3e-8, 65504]), shape: [4] },
      { name: 'f2', data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 1), shape: [3, 4] },
      { name: 'f4', data: Float32Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i)), shape: [2, 5, 5, 3] },
      { name: 'i1', data: Int32Array.from([0, -1, 2147483647, -2147483648, 9]), shape: [5] },
      { name: 'empty', data: new Float32Array(0), shape: [0, 3] },
    ];
    for (const c of cases) writeNpy(join(dir, `${c.name}.npy`), c.data, c.shape);
    const script = [
      'import json, sys, numpy as np',
      'out = {}',
      'for n in sys.argv[1:]:',
      '    a = np.load(n)',
      '    out[n] = [a.dtype.str, list(a.shape), a.ravel().astype(float).tolist(), bool(a.flags.c_contiguous)]',
      'print(json.dumps(out))',
    ].join('\n');
    const files = cases.map((c) => join(dir, `${c.name}.npy`));
    const got = JSON.parse(await runPython(python, ['-c', script, ...files])) as Record<string, [string, number[], number[], boolean]>;
    cases.forEach((c, i) => {
      const [dtype, shape, values, cOrder] = got[files[i]];
      assert.equal(dtype, c.data instanceof Float32Array ? '<f4' : '<i4', c.name);
      assert.deepEqual(shape, c.shape, c.name);
      assert.deepEqual(values, Array.from(c.data), c.name);
      assert.ok(cOrder, c.name);
    });
  });

  it('aligns the data to 64 bytes and round-trips through the probe’s own reader', () => {
    const data = Float32Array.from([0.25, -1, 7]);
    const bytes = encodeNpy(data, [1, 3]);
    assert.equal((bytes.length - 12) % 64, 0, 'header + preamble is a multiple of 64');
    writeNpy(join(dir, 'rt.npy'), data, [1, 3]);
    assert.deepEqual(Array.from(readNpyFloat32(readFileSync(join(dir, 'rt.npy')), 'rt.npy')), [0.25, -1, 7]);
  });

  it('refuses a shape that does not match the data', () => {
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), /holds 6 values, the data has 5/);
  });
});

describe('findPython', () => {
  it('finds an interpreter with PyTorch (here /usr/bin/python3 when python3 lacks it) and says where it runs', async () => {
    const found = await torchPython();
    assert.match(found.torch, /^\d+\.\d+/);
    assert.equal(typeof found.cuda, 'boolean');
    assert.match(found.device, found.cuda ? /^cuda:\d+ \(/ : /^CPU \(\d+ threads?\)$/);
    const direct = await findPython('/usr/bin/python3');
    if (!('error' in direct)) assert.equal(direct.python, '/usr/bin/python3', 'a preferred interpreter that works is used');
  });

  it('reports every interpreter it tried, why each failed, and how to install PyTorch', async () => {
    // A stand-in for a Python without torch: fails the way `import torch` does.
    const noTorch = join(dir, 'python-without-torch');
    writeFileSync(noTorch, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n');
    chmodSync(noTorch, 0o755);
    const r = await findPython('/nonexistent/python-for-loss-lens', [noTorch, process.execPath]);
    assert.ok('error' in r, 'nothing found');
    assert.match(r.error, /\/nonexistent\/python-for-loss-lens: not found/);
    assert.ok(r.error.includes(`${noTorch}: no PyTorch (import torch failed)`), r.error);
    assert.ok(r.error.includes(`${process.execPath}: `), 'node (not a Python) is listed with its own error');
    assert.match(r.error, /apt install python3-torch/);
    assert.match(r.error, /pip install torch/);
    assert.match(r.error, /`python` option/);
  });
});
