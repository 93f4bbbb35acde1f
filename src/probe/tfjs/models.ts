/**
 * Loads a user's model file for a probe: a tfjs model.json (+ weight shards), a Keras
 * `model.to_json()` topology (Keras 2 or 3), or a Keras 3 `.keras` archive. The model must map
 * one input row to one vector of class scores; a softmax head is turned into logits.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TfjsRuntime } from './backend';
import { fileIOHandler, loadArtifacts, type ModelJson } from './fsIO';
import { assignKerasWeights, readZip } from './kerasArchive';
import { normalizeTopology, stripSoftmax, TopologyError, type Topology } from './kerasConfig';

export class ModelFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ModelFileError';
  }
}

export interface LoadedModel {
  model: LayersModel;
  description: string;
  notes: string[];
}

export interface LoadOptions {
  /** Seeds the initializers a freshly initialized model (topology only) draws from. */
  seed?: number;
}

export async function loadModelFile(
  rt: TfjsRuntime,
  path: string,
  expect: { inputShape: number[]; classes: number },
  opts: LoadOptions = {},
): Promise<LoadedModel> {
  const notes: string[] = [];
  const ext = extname(path).toLowerCase();
  if (ext === '.pt' || ext === '.pth') throw new ModelFileError(path, 'TorchScript models train on the PyTorch backend, not tfjs');
  if (ext === '.h5' || ext === '.hdf5') {
    throw new ModelFileError(path, 'legacy Keras HDF5 model files are not supported; save the model as .keras (Keras 3) or export model.to_json()');
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelFileError(path, `cannot read the file (${(e as Error).message})`);
  }
  let model: LayersModel;
  let kind: string;
  try {
    if (ext === '.keras' || (bytes.length > 4 && bytes.readUInt32LE(0) === 0x04034b50)) {
      kind = 'Keras archive (.keras)';
      model = await loadKerasArchive(rt, path, bytes, notes, opts);
    } else {
      let json: unknown;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch (e) {
        throw new ModelFileError(path, `not JSON, and not a .keras archive (${(e as Error).message})`);
      }
      const j = json as ModelJson & { class_name?: unknown };
      if (j && typeof j === 'object' && 'modelTopology' in j) {
        kind = 'tfjs layers model';
        model = await loadTfjsModelJson(rt, path, j, notes, opts);
      } else if (j && typeof j === 'object' && ('class_name' in j || 'model_config' in j)) {
        kind = 'Keras model config (to_json)';
        model = await fromTopology(rt, topology(rt, j, notes, opts));
        notes.push('the file holds the architecture only: the weights are a fresh initialization');
      } else {
        throw new ModelFileError(path, 'a JSON file, but neither a tfjs model.json (no modelTopology) nor a Keras model config (no class_name)');
      }
    }
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    if (e instanceof TopologyError) throw new ModelFileError(path, e.message);
    throw new ModelFileError(path, `the model could not be built: ${typeof e === 'string' ? e : (e as Error).message}`);
  }
  try {
    checkShapes(model, expect);
  } catch (e) {
    model.dispose();
    throw new ModelFileError(path, (e as Error).message);
  }
  const params = model.countParams();
  const inShape = model.inputs[0].shape.slice(1).map((d) => d ?? '?').join('×');
  const description = `${basename(path)}: ${kind}, ${model.layers.length} layers, ${params.toLocaleString('en-US')} parameters, [${inShape}] → ${expect.classes} logits`;
  return { model, description, notes };
}

function topology(rt: TfjsRuntime, json: unknown, notes: string[], opts: LoadOptions): Topology {
  const known = new Set(Object.keys(rt.tf.serialization.SerializationMap.getMap().classNameMap));
  const topo = normalizeTopology(json as never, known, notes);
  const stripped = stripSoftmax(topo);
  if (stripped) notes.push(stripped);
  if (opts.seed !== undefined) seedInitializers(topo, opts.seed);
  return topo;
}

async function fromTopology(rt: TfjsRuntime, topo: Topology): Promise<LayersModel> {
  return rt.tf.models.modelFromJSON({ modelTopology: topo });
}

async function loadTfjsModelJson(rt: TfjsRuntime, path: string, json: ModelJson, notes: string[], opts: LoadOptions): Promise<LayersModel> {
  if (json.format === 'graph-model') {
    throw new ModelFileError(path, 'a tfjs graph model (converted from a SavedModel) cannot be trained; convert the Keras model as a layers model (tensorflowjs_converter --output_format=tfjs_layers_model)');
  }
  const topo = topology(rt, json.modelTopology, notes, opts);
  if (!json.weightsManifest || json.weightsManifest.length === 0) {
    notes.push('model.json lists no weights: the weights are a fresh initialization');
    return fromTopology(rt, topo);
  }
  let artifacts;
  try {
    artifacts = loadArtifacts(path, json);
  } catch (e) {
    throw new ModelFileError(path, `its weight shards cannot be read (${(e as Error).message})`);
  }
  const handler = fileIOHandler(path);
  handler.load = () => Promise.resolve({ ...artifacts, modelTopology: topo });
  return rt.tf.loadLayersModel(handler);
}

async function loadKerasArchive(rt: TfjsRuntime, path: string, bytes: Buffer, notes: string[], opts: LoadOptions): Promise<LayersModel> {
  let entries: Map<string, Buffer>;
  try {
    entries = readZip(bytes);
  } catch (e) {
    throw new ModelFileError(path, `not a readable .keras archive (${(e as Error).message})`);
  }
  const config = entries.get('config.json');
  if (!config) throw new ModelFileError(path, `no config.json in the archive (entries: ${[...entries.keys()].join(', ') || 'none'})`);
  const meta = entries.get('metadata.json');
  if (meta) {
    try {
      const m = JSON.parse(meta.toString('utf8')) as { keras_version?: string };
      if (m.keras_version && !/^3\./.test(m.keras_version)) notes.push(`saved by Keras ${m.keras_version} (read as the Keras 3 format)`);
    } catch {
      notes.push('metadata.json is not valid JSON (ignored)');
    }
  }
  const model = await fromTopology(rt, topology(rt, JSON.parse(config.toString('utf8')), notes, opts));
  const h5 = entries.get('model.weights.h5');
  if (!h5) {
    notes.push(entries.has('model.weights.npz') ? 'the weights are in .npz form, which is not read: fresh initialization' : 'the archive has no model.weights.h5: fresh initialization');
    return model;
  }
  try {
    const n = assignKerasWeights(rt.tf, model, h5, `${basename(path)}/model.weights.h5`);
    notes.push(`read ${n} weight arrays from model.weights.h5`);
  } catch (e) {
    const why = typeof e === 'string' ? e : (e as Error).message;
    notes.push(`the weights in model.weights.h5 could not be read (${why}): fresh initialization`);
  }
  return model;
}

function checkShapes(model: LayersModel, expect: { inputShape: number[]; classes: number }): void {
  if (model.inputs.length !== 1) throw new Error(`the model has ${model.inputs.length} inputs; a probe feeds exactly one`);
  if (model.outputs.length !== 1) throw new Error(`the model has ${model.outputs.length} outputs; a probe needs one (the class scores)`);
  const want = model.inputs[0].shape.slice(1);
  const have = expect.inputShape;
  const fits = want.length === have.length && want.every((d, i) => d === null || d === have[i]);
  if (!fits) {
    throw new Error(`the model expects input rows of shape [${want.map((d) => d ?? '?').join(', ')}], but the data's rows have shape [${have.join(', ')}]`);
  }
  const out = model.outputs[0].shape;
  if (out.length !== 2) throw new Error(`the model outputs shape [${out.map((d) => d ?? '?').join(', ')}] per batch; a probe needs [batch, classes]`);
  if (out[1] !== expect.classes) throw new Error(`the model outputs ${out[1]} classes, but the data has ${expect.classes}`);
}

const RANDOM_INITIALIZERS = new Set(['GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LeCunNormal', 'LeCunUniform', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling', 'Orthogonal']);

/** Gives unseeded random initializers seeds from `seed`, so a fresh initialization is reproducible. */
function seedInitializers(topo: Topology, seed: number): void {
  let k = 0;
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.class_name === 'string' && RANDOM_INITIALIZERS.has(o.class_name) && o.config && typeof o.config === 'object') {
        const c = o.config as Record<string, unknown>;
        if (c.seed === null || c.seed === undefined) c.seed = seed * 1000 + k++;
      }
      Object.values(o).forEach(walk);
    }
  };
  walk(topo);
}
