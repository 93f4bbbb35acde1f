import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initTfjs, type TfjsRuntime } from '../../src/probe/tfjs/backend';
import { loadModelFile, ModelFileError } from '../../src/probe/tfjs/models';
import { buildPreset, regularizationLoss } from '../../src/probe/tfjs/presets';

// Fixtures: test/fixtures/models, written by make_models.ts there.
const F = join(__dirname, '..', 'fixtures', 'models');
let rt: TfjsRuntime;

const weightsOf = (m: LayersModel): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));
const lastActivation = (m: LayersModel): unknown => (m.layers[m.layers.length - 1].getConfig() as { activation?: unknown }).activation;

async function rejects(p: Promise<unknown>, ...parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `a ModelFileError, not ${String(e)}`);
    for (const part of parts) {
      if (typeof part === 'string') assert.ok(e.message.includes(part), `'${e.message}' mentions '${part}'`);
      else assert.match(e.message, part);
    }
    return true;
  });
}

describe('model files and presets (tfjs)', () => {
  before(async () => {
    rt = await initTfjs('tfjs-wasm');
  });

  it('tfjs model.json + shard: weights load, and the softmax head becomes logits', async () => {
    const { model, notes, description } = await loadModelFile(rt, join(F, 'tfjs-mlp', 'model.json'), { inputShape: [8], classes: 3 });
    assert.match(description, /tfjs layers model/);
    assert.equal(lastActivation(model), 'linear');
    assert.ok(notes.some((n) => n.includes('softmax')));
    // softmax(our logits) = the saved model's probabilities: the weights were read.
    const want = JSON.parse(readFileSync(join(F, 'tfjs-mlp.expected.json'), 'utf8')) as { rows: number[][]; probabilities: number[][] };
    const probs = rt.tf.tidy(() => rt.tf.softmax(model.predict(rt.tf.tensor2d(want.rows)) as Tensor).arraySync() as number[][]);
    probs.flat().forEach((p, i) => assert.ok(Math.abs(p - want.probabilities.flat()[i]) < 1e-5, `p[${i}] = ${p}`));
    model.dispose();
  });

  it('Keras 2 to_json (functional, with a merge and an L2 regularizer): fresh initialization, logits', async () => {
    const { model, notes } = await loadModelFile(rt, join(F, 'keras2-functional.json'), { inputShape: [6], classes: 5 });
    assert.deepEqual(model.outputs[0].shape, [null, 5]);
    assert.equal(lastActivation(model), 'linear');
    assert.ok(notes.some((n) => n.includes('fresh initialization')));
    assert.equal(model.calculateLosses().length, 1);
    model.dispose();
  });

  it('Keras 3 to_json (Sequential CNN, DTypePolicy, batch_shape): the Activation(softmax) layer is removed', async () => {
    const { model, notes } = await loadModelFile(rt, join(F, 'keras3-cnn.json'), { inputShape: [8, 8, 1], classes: 3 });
    assert.ok(notes.some((n) => n.includes("'activation' (softmax) was removed")));
    assert.ok(!model.layers.some((l) => l.getClassName() === 'Activation'));
    const out = rt.tf.tidy(() => (model.predict(rt.tf.zeros([2, 8, 8, 1])) as Tensor).shape);
    assert.deepEqual(out, [2, 3]);
    model.dispose();
  });

  it('a .keras archive: config (functional, Keras 3 inbound nodes) and the weights from model.weights.h5', async () => {
    const { model, notes } = await loadModelFile(rt, join(F, 'keras3-archive.keras'), { inputShape: [6], classes: 3 });
    assert.ok(notes.some((n) => n.includes('read 8 weight arrays')), notes.join('; '));
    assert.equal(lastActivation(model), 'linear');
    const want = JSON.parse(readFileSync(join(F, 'keras3-archive.expected.json'), 'utf8')) as Record<string, { data: number[] }[]>;
    const expected = [...want['layers/dense/vars'], ...want['layers/batch_normalization/vars'], ...want['layers/dense_1/vars']].map((v) => v.data);
    // Layer by layer (a model's getWeights() lists all trainable weights before the rest).
    const got = model.layers.flatMap((l) => l.getWeights().map((w) => Array.from(w.dataSync())));
    assert.equal(got.length, expected.length);
    got.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-6, `weight ${i}[${j}]`)));
    assert.equal(model.calculateLosses().length, 1, 'the Keras 3 L2 regularizer is kept');
    model.dispose();
  });

  it('refuses a Lambda layer, naming it', async () => {
    await rejects(loadModelFile(rt, join(F, 'keras3-lambda.json'), { inputShape: [8, 8, 1], classes: 3 }), "'scale'", 'Lambda', 'keras3-lambda.json');
  });

  it('an unknown layer class is an error naming the class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-models-'));
    const file = join(dir, 'custom.json');
    writeFileSync(file, readFileSync(join(F, 'keras3-cnn.json'), 'utf8').replace('"Flatten"', '"MyFancyFlatten"'));
    await rejects(loadModelFile(rt, file, { inputShape: [8, 8, 1], classes: 3 }), 'MyFancyFlatten', "'flatten'", file);
  });

  it('wrong classes or input shape: errors saying what the model expects and what the data has', async () => {
    await rejects(loadModelFile(rt, join(F, 'keras3-cnn.json'), { inputShape: [8, 8, 1], classes: 10 }), 'outputs 3 classes', 'data has 10');
    await rejects(loadModelFile(rt, join(F, 'keras3-cnn.json'), { inputShape: [784], classes: 3 }), '[8, 8, 1]', '[784]');
  });

  it('files that are not models: clear errors with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-models-'));
    writeFileSync(join(dir, 'x.json'), '{"hello": 1}');
    await rejects(loadModelFile(rt, join(dir, 'x.json'), { inputShape: [6], classes: 3 }), 'x.json', 'neither a tfjs model.json');
    writeFileSync(join(dir, 'x.keras'), 'PK not really');
    await rejects(loadModelFile(rt, join(dir, 'x.keras'), { inputShape: [6], classes: 3 }), 'x.keras', 'not a readable .keras archive');
    await rejects(loadModelFile(rt, join(dir, 'missing.json'), { inputShape: [6], classes: 3 }), 'cannot read');
  });

  it('seeded topology-only loads are reproducible', async () => {
    const a = await loadModelFile(rt, join(F, 'keras3-cnn.json'), { inputShape: [8, 8, 1], classes: 3 }, { seed: 4 });
    const b = await loadModelFile(rt, join(F, 'keras3-cnn.json'), { inputShape: [8, 8, 1], classes: 3 }, { seed: 4 });
    assert.deepEqual(weightsOf(a.model), weightsOf(b.model));
    a.model.dispose();
    b.model.dispose();
  });

  for (const name of ['mlp', 'cnn'] as const) {
    it(`preset ${name}: two builds with one seed are equal, another seed differs; outputs logits`, () => {
      const opts = { hidden: 16, batchNorm: true, dropout: 0.2, weightDecay: 0 };
      const build = (seed: number) => buildPreset(rt, name, opts, [12, 12, 1], 4, seed).model;
      const [a, b, c] = [build(1), build(1), build(2)];
      assert.deepEqual(weightsOf(a), weightsOf(b));
      assert.notDeepEqual(weightsOf(a), weightsOf(c));
      assert.equal(lastActivation(a), 'linear');
      assert.deepEqual(a.outputs[0].shape, [null, 4]);
      for (const m of [a, b, c]) m.dispose();
    });
  }

  it('the cnn preset refuses flat inputs; regularizationLoss is (weightDecay/2)·Σ‖kernel‖²', () => {
    assert.throws(() => buildPreset(rt, 'cnn', { hidden: 8, batchNorm: false, dropout: 0, weightDecay: 0 }, [784], 10, 1), /\[height, width, channels\]/);
    const wd = 0.01;
    const { model } = buildPreset(rt, 'mlp', { hidden: 8, batchNorm: true, dropout: 0, weightDecay: wd }, [5], 3, 1);
    const kernels = model.weights.filter((w) => w.name.includes('kernel'));
    assert.equal(kernels.length, 3);
    const want = (wd / 2) * kernels.reduce((s, w) => s + Array.from(w.read().dataSync()).reduce((t, v) => t + v * v, 0), 0);
    const got = rt.tf.tidy(() => regularizationLoss(rt, model)!.dataSync()[0]);
    assert.ok(Math.abs(got - want) < 1e-6 * Math.max(1, want), `${got} vs ${want}`);
    const plain = buildPreset(rt, 'mlp', { hidden: 8, batchNorm: false, dropout: 0, weightDecay: 0 }, [5], 3, 1).model;
    assert.equal(regularizationLoss(rt, plain), null);
    model.dispose();
    plain.dispose();
  });
});
