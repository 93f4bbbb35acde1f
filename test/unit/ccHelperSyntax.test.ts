/**
 * What can be checked of every CC helper without its framework: the Python sources compile
 * (TensorFlow and JAX are not installed here, so the Keras and optax helpers are checked for
 * syntax only), the tfjs source type-checks under `strict`, and the quick fix's metadata is
 * consistent (call and import name the helper's function; headers carry license and method).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CC_HELPERS, renderCcCall } from '../../src/core/lint/helpers';
import { RULE_CODES } from '../../src/core/lint/types';
import { coreReference, gradError, lossError, makeHelperCases } from '../fixtures/cc-helpers/cases';

const run = promisify(execFile);
const PYTHON = process.env.LOSS_LENS_TEST_PYTHON ?? '/usr/bin/python3';
const ROOT = resolve(__dirname, '../..');

describe('CC helper templates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-helper-syntax-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const helper of Object.values(CC_HELPERS)) {
    it(`${helper.framework}: metadata names ${helper.functionName}, the header states license and method`, () => {
      assert.ok(helper.callTemplate.includes(helper.functionName), helper.callTemplate);
      assert.ok(helper.importLine.includes(helper.functionName), helper.importLine);
      assert.ok(helper.importLine.includes(helper.moduleName), helper.importLine);
      assert.ok(helper.fileName.startsWith(helper.moduleName + '.'), helper.fileName);
      for (const p of ['{logits}', '{target}', '{reduction}']) assert.ok(helper.callTemplate.includes(p), `${p} in ${helper.callTemplate}`);
      const header = helper.source.slice(0, 3000);
      assert.match(header, /MIT License/);
      assert.match(header, /Loss Lens/);
      assert.match(header, /textbook formula .* is not\s+(\* )?used/s, 'says the naive formula is not used');
      assert.match(header, /uniform logits are exact/);
      assert.match(header, /reduction/);
      assert.ok(helper.source.endsWith('\n'));
      assert.ok(!/loss[_-]?lens_probe|src\/core|from '\.\.\//.test(helper.source), 'self-contained: no Loss Lens imports');
    });
  }

  it('renders a rewritten call', () => {
    const call = renderCcCall(CC_HELPERS.pytorch, { logits: 'model(x)', target: 'soft', reduction: "'mean'" });
    assert.equal(call, "cc_nll(model(x), soft, reduction='mean')");
    assert.equal(renderCcCall(CC_HELPERS.tfjs, { logits: 'z', target: 'y', reduction: "'sum'" }), "ccNll(z, y, 'sum')");
    assert.ok(RULE_CODES.length > 0); // the helpers sit beside the lint types they are keyed by
  });

  it('the Python helpers (PyTorch, Keras/TF, optax/JAX) compile with py_compile', async () => {
    for (const fw of ['pytorch', 'keras', 'optax'] as const) {
      const sub = join(dir, fw);
      const file = join(sub, CC_HELPERS[fw].fileName);
      await run('mkdir', ['-p', sub]);
      writeFileSync(file, CC_HELPERS[fw].source);
      try {
        await run(PYTHON, ['-m', 'py_compile', file]);
      } catch (e) {
        assert.fail(`${fw}: ${PYTHON} -m py_compile failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
      }
    }
  });

  it('the Keras helper is graph-safe in form: tf.custom_gradient and tf.while_loop, no Python loop over terms', () => {
    const src = CC_HELPERS.keras.source;
    assert.match(src, /@tf\.custom_gradient/);
    assert.match(src, /tf\.while_loop\(/);
    assert.doesNotMatch(src, /for m in range/);
    const jax = CC_HELPERS.optax.source;
    assert.match(jax, /@jax\.custom_vjp/);
    assert.match(jax, /_cc_rows\.defvjp\(_rows_fwd, _rows_bwd\)/);
    assert.match(jax, /lax\.while_loop\(cond, body, state\)/);
  });

  it('the optax helper\'s logic, run with numpy standing in for jax.numpy, matches the core', async () => {
    // Not a JAX test (no jit, no tracing, no custom_vjp machinery): a check that the
    // transcription's loop, stopping rule, rescaling and residuals compute the right numbers.
    const sub = join(dir, 'numpy-jax');
    await run('mkdir', ['-p', join(sub, 'jax')]);
    writeFileSync(join(sub, 'jax/__init__.py'), NUMPY_JAX.init);
    writeFileSync(join(sub, 'jax/numpy.py'), 'from numpy import *  # noqa: F401,F403\n');
    writeFileSync(join(sub, 'jax/lax.py'), NUMPY_JAX.lax);
    writeFileSync(join(sub, 'cc_loss.py'), CC_HELPERS.optax.source);
    const cases = makeHelperCases(['float64'], 2, 77);
    const driver = join(sub, 'driver.py');
    writeFileSync(driver, NUMPY_JAX.driver);
    const child = run(PYTHON, [driver], { cwd: sub, maxBuffer: 64 << 20 });
    child.child.stdin?.end(JSON.stringify(cases.map((c) => ({ z: c.z, y: c.y }))));
    const got = JSON.parse((await child).stdout) as { loss: number[]; grad: number[][] }[];
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const want = coreReference(c);
      const le = lossError(got[i].loss, want.loss);
      const ge = gradError(got[i].grad.flat(), want.grad);
      if (!(le <= 1e-10 && ge <= 1e-10)) failures.push(`K=${c.K} spread=${c.spread}: ${le.toExponential(2)}, ${ge.toExponential(2)}`);
    });
    assert.deepEqual(failures, []);
  });

  it('the tfjs helper type-checks under strict tsc (import pointed at tfjs-core)', { timeout: 120_000 }, async () => {
    const helper = CC_HELPERS.tfjs;
    const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
    const file = join(dir, helper.fileName);
    writeFileSync(file, helper.source.replace("from '@tensorflow/tfjs'", `from ${JSON.stringify(core)}`));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = [tsc, '--noEmit', '--strict', '--noUnusedLocals', '--target', 'ES2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), file];
    try {
      await run(process.execPath, args, { cwd: dir });
    } catch (e) {
      assert.fail(`tsc: ${(e as { stdout?: string }).stdout ?? String(e)}`);
    }
  });
});

/** A numpy stand-in for the few jax names the optax helper uses, and a driver for it. */
const NUMPY_JAX = {
  init: [
    'class custom_vjp:',
    '    def __init__(self, fun):',
    '        self.fun = fun',
    '    def defvjp(self, fwd, bwd):',
    '        self.fwd, self.bwd = fwd, bwd',
    '    def __call__(self, *args):',
    '        return self.fun(*args)',
    '',
  ].join('\n'),
  lax: ['def while_loop(cond, body, state):', '    while cond(state):', '        state = body(state)', '    return state', ''].join('\n'),
  driver: [
    'import json, sys',
    'import numpy as np',
    'import cc_loss',
    'out = []',
    'for c in json.load(sys.stdin):',
    '    z, y = np.array(c["z"]), np.array(c["y"])',
    '    loss, res = cc_loss._cc_rows.fwd(z, y)',
    '    dz, _ = cc_loss._cc_rows.bwd(res, np.ones(len(z)))',
    '    out.append({"loss": loss.tolist(), "grad": dz.tolist()})',
    'print(json.dumps(out))',
    '',
  ].join('\n'),
};
