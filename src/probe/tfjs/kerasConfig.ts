/**
 * Turns a Keras model config (Keras 2 `to_json()`, Keras 3 `to_json()` / a .keras archive's
 * config.json, a tfjs model.json's modelTopology) into the Keras 2 form tfjs-layers
 * deserializes, refusing layers that would run code, and rewrites a softmax head to logits.
 *
 * Keras 3 differs from Keras 2 where tfjs-layers stops: objects carry "module" /
 * "registered_name" / "build_config"; dtypes are DTypePolicy objects; InputLayer has
 * `batch_shape`; functional inbound nodes are {args, kwargs} holding `__keras_tensor__`
 * objects with a keras_history instead of [layer, node, tensor, kwargs] lists.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
export type Topology = Obj;

const str = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Layer classes that hold Python code (bytecode or an op to call): never deserialized. */
const CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);
/** Container classes whose `config.layers` hold more layers. */
const CONTAINERS = new Set(['Sequential', 'Functional', 'Model']);

export class TopologyError extends Error {}

/**
 * Returns a converted deep copy. `known` is the set of layer class names tfjs-layers can build;
 * an unknown or code-running layer is an error naming it.
 */
export function normalizeTopology(input: Json, known: ReadonlySet<string>, notes: string[]): Topology {
  let top = input;
  // Older tfjs converters wrapped the config as {model_config, training_config}.
  if (isObj(top) && isObj(top.model_config)) top = top.model_config;
  if (!isObj(top) || typeof top.class_name !== 'string') throw new TopologyError('not a Keras model config (no class_name at the top)');
  if (!CONTAINERS.has(top.class_name)) throw new TopologyError(`the top-level object is a ${top.class_name}, not a model (Sequential or Functional)`);
  const mixed = new Set<string>();
  const out = convert(top, mixed) as Obj;
  if (mixed.size) notes.push(`the model's dtype policy ${[...mixed].join(', ')} is replaced by float32 (tfjs trains in float32)`);
  checkLayers(out, known, 'model');
  return out;
}

function convert(v: Json, mixed: Set<string>): Json {
  if (Array.isArray(v)) return v.map((x) => convert(x, mixed));
  if (!isObj(v)) return v;
  const cls = v.class_name;
  // Keras 3 dtype policies → a plain dtype string.
  if ((cls === 'DTypePolicy' || cls === 'Policy' || cls === 'FloatDTypePolicy') && isObj(v.config)) {
    const name = str(v.config.name);
    if (name === 'float32') return name;
    mixed.add(name);
    return 'float32';
  }
  const o: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config' || k === 'shared_object_id') continue;
    o[k] = convert(x, mixed);
  }
  // Keras 2.5+ and 3 write l1/l2 regularizers as classes tfjs-layers only knows as L1L2.
  if ((cls === 'L2' || cls === 'L1') && isObj(o.config)) {
    o.class_name = 'L1L2';
    o.config = { l1: cls === 'L1' ? Number(o.config.l1 ?? 0) : 0, l2: cls === 'L2' ? Number(o.config.l2 ?? 0) : 0 };
  }
  if (cls === 'InputLayer' && isObj(o.config)) {
    const c = o.config;
    if (c.batch_shape !== undefined && c.batch_input_shape === undefined) c.batch_input_shape = c.batch_shape;
    if (c.batch_input_shape === undefined && Array.isArray(c.shape)) c.batch_input_shape = [null, ...c.shape];
    for (const k of ['batch_shape', 'shape', 'optional', 'ragged', 'input_tensor']) delete c[k];
  }
  if (Array.isArray(o.inbound_nodes)) o.inbound_nodes = o.inbound_nodes.map(convertNode);
  if (isObj(o.config) && (cls === 'Functional' || cls === 'Model')) {
    for (const key of ['input_layers', 'output_layers']) {
      const refs = o.config[key];
      // Keras 3 writes a single input/output as one [name, node, tensor] triple.
      if (Array.isArray(refs) && typeof refs[0] === 'string') o.config[key] = [refs];
    }
  }
  if (cls === 'Sequential' && isObj(o.config)) sequentialInputShape(o.config);
  return o;
}

/** Keras 3 {args, kwargs} → Keras 2 [[layer, node, tensor, {}], …] (the inputs in order). */
function convertNode(node: Json): Json {
  if (!isObj(node) || !('args' in node)) return node;
  const refs: Json[] = [];
  const walk = (a: Json) => {
    if (Array.isArray(a)) a.forEach(walk);
    else if (isObj(a) && a.class_name === '__keras_tensor__' && isObj(a.config) && Array.isArray(a.config.keras_history)) {
      const [layer, nodeIndex, tensorIndex] = a.config.keras_history;
      refs.push([layer, nodeIndex, tensorIndex, {}]);
    }
  };
  walk(node.args);
  return refs;
}

/** A Keras 3 Sequential without an InputLayer records its input shape as build_input_shape. */
function sequentialInputShape(config: Obj): void {
  const layers = config.layers;
  const shape = config.build_input_shape;
  if (!Array.isArray(layers) || layers.length === 0 || !Array.isArray(shape)) return;
  const first = layers[0];
  if (isObj(first) && first.class_name !== 'InputLayer' && isObj(first.config) && first.config.batch_input_shape === undefined) {
    first.config.batch_input_shape = shape;
  }
}

function checkLayers(model: Obj, known: ReadonlySet<string>, where: string): void {
  const cfg = model.config;
  const layers = Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg.layers : undefined;
  if (!Array.isArray(layers)) throw new TopologyError(`${where}: the ${str(model.class_name)} config has no layer list`);
  for (const l of layers) {
    if (!isObj(l)) throw new TopologyError(`${where}: a layer entry is not an object`);
    const cls = str(l.class_name);
    const name = isObj(l.config) && typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : '?';
    if (CODE_LAYERS.has(cls)) {
      throw new TopologyError(`layer '${name}' is a Keras ${cls} layer, which runs arbitrary Python code; such layers are refused (rebuild the model with built-in layers)`);
    }
    if (CONTAINERS.has(cls)) {
      checkLayers(l, known, `${where} > ${name}`);
      continue;
    }
    if (!known.has(cls)) throw new TopologyError(`layer '${name}' has class ${cls}, which tfjs-layers does not know (custom or unsupported layer)`);
    if (isObj(l.config) && typeof l.config.groups === 'number' && l.config.groups !== 1) {
      throw new TopologyError(`layer '${name}' (${cls}) uses groups=${l.config.groups}, which tfjs-layers does not support`);
    }
  }
}

const isSoftmaxLayer = (l: Obj): boolean =>
  l.class_name === 'Softmax' || (l.class_name === 'Activation' && isObj(l.config) && l.config.activation === 'softmax');

/**
 * If the model's output passes through softmax, make it output the logits before it (in place).
 * Returns a note saying what changed, or null.
 */
export function stripSoftmax(model: Obj): string | null {
  const cfg = model.config;
  const layers = (Array.isArray(cfg) ? cfg : isObj(cfg) && Array.isArray(cfg.layers) ? cfg.layers : []) as Obj[];
  if (layers.length === 0) return null;
  let outIndex = layers.length - 1;
  if ((model.class_name === 'Functional' || model.class_name === 'Model') && isObj(cfg)) {
    const outs = cfg.output_layers as Json[][] | undefined;
    if (!Array.isArray(outs) || outs.length !== 1) return null;
    outIndex = layers.findIndex((l) => layerName(l) === outs[0][0]);
    if (outIndex < 0) return null;
    const out = layers[outIndex];
    if (isSoftmaxLayer(out)) {
      const inbound = (out.inbound_nodes as Json[][][] | undefined)?.[0]?.[0];
      if (!inbound) return null;
      cfg.output_layers = [[inbound[0], inbound[1], inbound[2]]];
      layers.splice(outIndex, 1);
      return `the output layer '${layerName(out)}' (softmax) was removed: the model outputs logits`;
    }
  } else if (isSoftmaxLayer(layers[outIndex])) {
    const out = layers.pop() as Obj;
    return `the last layer '${layerName(out)}' (softmax) was removed: the model outputs logits`;
  }
  const out = layers[outIndex];
  if (CONTAINERS.has(str(out.class_name))) return stripSoftmax(out);
  if (isObj(out.config) && out.config.activation === 'softmax') {
    out.config.activation = 'linear';
    return `the last layer '${layerName(out)}' (${str(out.class_name)}) applied softmax; its activation is now linear: the model outputs logits`;
  }
  return null;
}

const layerName = (l: Obj): string => (isObj(l.config) && typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : '?');
