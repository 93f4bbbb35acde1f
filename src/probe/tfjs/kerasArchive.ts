/**
 * Reads a Keras 3 `.keras` archive: a zip of config.json, metadata.json and model.weights.h5.
 *
 * The .npz reader (src/core/labels/npz.ts) streams one array out of a zip for label files; here
 * the whole (small) archive is read into memory and every entry is needed, so a few lines of
 * zip parsing do instead.
 */
import { inflateRawSync } from 'node:zlib';
import { File as H5File, Dataset, Group } from 'jsfive';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Tf } from './backend';

/** The entries of a zip held in memory (stored or deflated; no zip64, no encryption). */
export function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end-of-central-directory record)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (p === 0xffffffff) throw new Error('zip64 archives are not supported for .keras files');
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`zip central directory entry ${n + 1} is malformed`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const local = buf.readUInt32LE(p + 42);
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new Error(`zip entry ${name} is encrypted`);
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip entry ${name}: no local header where the directory says`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, inflateRawSync(raw));
    else throw new Error(`zip entry ${name}: compression method ${method} is not supported`);
  }
  return out;
}

/** Keras' naming.to_snake_case, which names a layer's weights group after its class. */
export function kerasSnakeCase(name: string): string {
  const s = name.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function lookup(root: Group, path: string): Group | Dataset | null {
  let node: Group | Dataset | null = root;
  for (const part of path.split('/')) {
    if (!(node instanceof Group) || !node.keys.includes(part)) return null;
    node = node.get(part);
  }
  return node;
}

interface Assignment {
  layer: LayersModel['layers'][number];
  values: { data: Float32Array; shape: number[] }[];
}

/**
 * Sets the model's weights from a Keras 3 model.weights.h5. Keras 3 stores each layer's
 * variables (trainable then non-trainable, the order tfjs-layers also uses) under
 * `layers/<snake_case class>[_n]/vars/<i>`, numbering layers of one class in order; Keras 2.13
 * wrote `_layer_checkpoint_dependencies` for `layers`. Nothing is set unless every weighted layer
 * is found with matching shapes; otherwise this throws saying what did not match.
 */
export function assignKerasWeights(tf: Tf, model: LayersModel, h5: Buffer, fileName: string): number {
  const ab = h5.buffer.slice(h5.byteOffset, h5.byteOffset + h5.byteLength) as ArrayBuffer;
  const file = new H5File(ab, fileName);
  const root = file.keys.includes('layers') ? 'layers' : file.keys.includes('_layer_checkpoint_dependencies') ? '_layer_checkpoint_dependencies' : null;
  if (!root) throw new Error(`${fileName} has no 'layers' group (groups: ${file.keys.join(', ') || 'none'})`);
  const plan: Assignment[] = [];
  const walk = (container: LayersModel, prefix: string) => {
    const used = new Map<string, number>();
    for (const layer of container.layers) {
      const base = kerasSnakeCase(layer.getClassName());
      const n = used.has(base) ? (used.get(base) as number) + 1 : 0;
      used.set(base, n);
      const path = `${prefix}/${n === 0 ? base : `${base}_${n}`}`;
      const inner = layer as unknown as LayersModel;
      if (Array.isArray(inner.layers) && inner.layers.length > 0 && 'outputs' in inner) {
        walk(inner, `${path}/${root}`);
        continue;
      }
      const wanted = layer.weights;
      if (wanted.length === 0) continue;
      const vars = lookup(file, `${path}/vars`);
      if (!(vars instanceof Group)) throw new Error(`no weights for layer '${layer.name}' (${layer.getClassName()}) at ${path}/vars`);
      const keys = vars.keys.filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
      if (keys.length !== wanted.length) {
        throw new Error(`layer '${layer.name}' has ${wanted.length} weights; ${path}/vars holds ${keys.length}`);
      }
      const values = keys.map((k, i) => {
        const ds = vars.get(k) as Dataset;
        const shape = ds.shape ?? [];
        const want = wanted[i].shape;
        if (shape.length !== want.length || shape.some((d, j) => d !== want[j])) {
          throw new Error(`layer '${layer.name}' weight ${wanted[i].name}: the file has shape [${shape.join(', ')}], the model [${want.join(', ')}]`);
        }
        return { data: Float32Array.from(ds.value as ArrayLike<number>, Number), shape };
      });
      plan.push({ layer, values });
    }
  };
  walk(model, root);
  let count = 0;
  for (const { layer, values } of plan) {
    const tensors = values.map((v) => tf.tensor(v.data, v.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
    count += values.length;
  }
  return count;
}
