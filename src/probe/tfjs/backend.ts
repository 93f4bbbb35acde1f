/**
 * Picks and starts the TensorFlow.js backend a probe trains on.
 *
 * tfjs-node / tfjs-node-gpu cannot be installed on every machine (their install script downloads
 * libtensorflow), so they are never dependencies: they are looked up at run time with a require
 * the bundler cannot see. Each brings its own copy of tfjs, so everything that builds or trains
 * a model must use `runtime.tf`, never values imported statically from @tensorflow/* (types are
 * fine): tensors of one tfjs copy mean nothing to the other.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
// A named import, not a bare one: esbuild drops bare imports of this package (its sideEffects
// list omits the node build), and then no cpu backend is registered.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackendName } from '../../shared/probeProtocol';
import { applyWasmPatches } from './wasmPatches';

/** The tfjs namespace a runtime hands out: core and layers (tfjs-node's namespace has both). */
export type Tf = typeof tfc & typeof tfl;

export interface TfjsRuntime {
  tf: Tf;
  backend: BackendName;
  /** Where it runs, in words: "CPU (wasm, SIMD, 1 thread)". */
  device: string;
  /** What the user should know about the choice (why a fallback happened, …). */
  notes: string[];
}

export type TfjsChoice = 'auto' | 'tfjs-node' | 'tfjs-wasm' | 'tfjs-cpu';

export interface TfjsInitOptions {
  /** Folder holding tfjs-backend-wasm's .wasm files (default: dist/tfjs-wasm next to the bundle, else node_modules). */
  wasmDir?: string;
  /** Extra folders to resolve tfjs-node / tfjs-node-gpu from (e.g. a global node_modules). */
  nodeSearchPaths?: string[];
}

const NODE_INSTALL_HINT =
  'install it next to the extension or CLI with `npm install @tensorflow/tfjs-node` ' +
  '(or @tensorflow/tfjs-node-gpu with CUDA 11.2 and cuDNN 8; its install downloads libtensorflow, so it needs internet), ' +
  'or choose the tfjs-wasm backend';

/** The namespace built from our own (static) copy of tfjs. */
const staticTf = (): Tf => ({ ...tfc, ...tfl });

export async function initTfjs(choice: TfjsChoice, opts: TfjsInitOptions = {}): Promise<TfjsRuntime> {
  const notes: string[] = [];
  quietCpuBackend();
  if (choice === 'auto' || choice === 'tfjs-node') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
      const loaded = tryRequire(pkg, opts.nodeSearchPaths ?? []);
      if (loaded.tf) return nodeRuntime(loaded.tf, pkg, notes);
      if (loaded.error) notes.push(`${pkg} is installed but failed to load: ${loaded.error}`);
    }
    if (choice === 'tfjs-node') {
      throw new Error(`The tfjs-node backend was asked for, but neither @tensorflow/tfjs-node nor @tensorflow/tfjs-node-gpu can be loaded. To use it, ${NODE_INSTALL_HINT}.${notes.length ? ` (${notes.join('; ')})` : ''}`);
    }
  }
  if (choice === 'auto' || choice === 'tfjs-wasm') {
    try {
      return await wasmRuntime(opts.wasmDir, notes);
    } catch (e) {
      if (choice === 'tfjs-wasm') throw e;
      notes.push(`the wasm backend could not start (${(e as Error).message}); training on the pure-JS cpu backend, which is much slower for conv nets`);
    }
  }
  if (!(await tfc.setBackend('cpu'))) throw new Error('the tfjs cpu backend failed to initialize');
  await tfc.ready();
  return { tf: staticTf(), backend: 'tfjs-cpu', device: 'CPU (pure JS)', notes };
}

/**
 * The cpu backend prints an "install tfjs-node" banner to the console on its first tensor; the
 * runtime states the backend in its own words, and a CLI's stdout must stay clean.
 */
function quietCpuBackend(): void {
  if (!version_cpu || !tfc.findBackendFactory('cpu')) throw new Error('the tfjs cpu backend is not registered (bundling problem)');
  const cpu = tfc.engine().findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

function tryRequire(pkg: string, searchPaths: string[]): { tf?: Tf; error?: string } {
  // createRequire keeps the bundler from resolving (and failing on) the optional packages.
  const req = createRequire(__filename);
  let resolved: string;
  try {
    resolved = req.resolve(pkg, { paths: [...searchPaths, __dirname] });
  } catch {
    return {};
  }
  try {
    return { tf: req(resolved) as Tf };
  } catch (e) {
    // Installed but broken (missing libtensorflow, CUDA, …): say so rather than pass silently.
    return { error: (e as Error).message.split('\n')[0] };
  }
}

async function nodeRuntime(tf: Tf, pkg: string, notes: string[]): Promise<TfjsRuntime> {
  await tf.ready();
  const gpu = pkg.endsWith('-gpu');
  const version = (tf as unknown as { version?: Record<string, string> }).version?.['tfjs-node'] ?? tf.version_core;
  if (version !== tfc.version_core) notes.push(`${pkg} uses tfjs ${version} (this build was tested with ${tfc.version_core})`);
  return {
    tf,
    backend: gpu ? 'tfjs-node-gpu' : 'tfjs-node',
    device: gpu ? 'GPU (tfjs-node-gpu, libtensorflow with CUDA)' : 'CPU (tfjs-node, libtensorflow)',
    notes,
  };
}

let wasmDirSet: string | undefined;

async function wasmRuntime(wasmDir: string | undefined, notes: string[]): Promise<TfjsRuntime> {
  const dir = wasmDir ?? defaultWasmDir();
  if (!existsSync(join(dir, 'tfjs-backend-wasm.wasm'))) throw new Error(`tfjs-backend-wasm.wasm is not in ${dir}`);
  // The paths can only be set before the wasm backend first initializes.
  if (wasmDirSet === undefined) {
    setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    wasmDirSet = dir;
  } else if (wasmDirSet !== dir) {
    notes.push(`the wasm backend was already started from ${wasmDirSet}; ${dir} is not used`);
  }
  if (!(await tfc.setBackend('wasm'))) throw new Error(`the wasm backend failed to initialize from ${dir}`);
  await tfc.ready();
  applyWasmPatches(tfc);
  const simd = (await tfc.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = (await tfc.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  // In Node the threaded build is never used (no SharedArrayBuffer workers here), so 1 thread.
  const device = `CPU (wasm${simd ? ', SIMD' : ''}, ${threads ? 'multi-threaded' : '1 thread'})`;
  return { tf: staticTf(), backend: 'tfjs-wasm', device, notes };
}

/**
 * In the bundle (dist/*.js) the .wasm files are copied to dist/tfjs-wasm by esbuild.mjs; when run
 * from source (tsx, tests) they are found in tfjs-backend-wasm's own dist folder.
 */
export function defaultWasmDir(): string {
  const bundled = join(__dirname, 'tfjs-wasm');
  if (existsSync(join(bundled, 'tfjs-backend-wasm.wasm'))) return bundled;
  try {
    return dirname(createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm'));
  } catch {
    throw new Error(`the .wasm files are in neither ${bundled} nor an installed @tensorflow/tfjs-backend-wasm`);
  }
}
