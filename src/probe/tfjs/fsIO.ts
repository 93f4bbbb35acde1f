/**
 * A tfjs IOHandler on the local file system: tfjs in Node has no file:// loader without
 * tfjs-node. Reads/writes the standard layers-model layout: model.json (topology and
 * weightsManifest) plus the weight shards it names, relative to it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  trainingConfig?: unknown;
}

/** `path` is the model.json file. Shards are written next to it as <name>.weights.bin. */
export function fileIOHandler(path: string): io.IOHandler {
  return {
    load: (): Promise<io.ModelArtifacts> => Promise.resolve(loadArtifacts(path, JSON.parse(readFileSync(path, 'utf8')) as ModelJson)),
    save: (artifacts: io.ModelArtifacts): Promise<io.SaveResult> => {
      mkdirSync(dirname(path), { recursive: true });
      const shard = `${basename(path).replace(/\.json$/i, '')}.weights.bin`;
      const data = artifacts.weightData;
      const bytes = data === undefined ? new Uint8Array(0) : concat(Array.isArray(data) ? data : [data]);
      const json: ModelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(join(dirname(path), shard), bytes);
      writeFileSync(path, `${JSON.stringify(json)}\n`);
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.length } });
    },
  };
}

/** Artifacts from a parsed model.json; the weight shards are read from next to `path`. */
export function loadArtifacts(path: string, json: ModelJson): io.ModelArtifacts {
  const specs: io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      // Shard paths are URLs relative to model.json; refuse ones that climb out of its folder.
      const rel = decodeURIComponent(p);
      if (rel.split(/[\\/]/).includes('..') || /^[a-z]+:|^\//i.test(rel)) throw new Error(`weight shard path '${p}' is not inside the model's folder`);
      shards.push(readFileSync(join(dirname(path), rel)));
    }
    specs.push(...group.weights);
  }
  return {
    modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'],
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    weightSpecs: specs,
    weightData: concat(shards).buffer as ArrayBuffer,
  };
}

function concat(parts: (ArrayBuffer | Uint8Array)[]): Uint8Array {
  const views = parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(views.reduce((n, v) => n + v.byteLength, 0));
  let at = 0;
  for (const v of views) {
    out.set(v, at);
    at += v.byteLength;
  }
  return out;
}
