/**
 * Which backend trains a probe. Model files decide first (TorchScript trains on PyTorch, tfjs
 * and Keras files on tfjs); then the user's setting; `auto` prefers a GPU (tfjs-node-gpu, then
 * PyTorch with CUDA), then tfjs-node, then the bundled wasm backend.
 */
import { extname } from 'node:path';
import type { BackendName, ProbeConfig } from '../shared/probeProtocol';
import { initTfjs, type TfjsRuntime } from './tfjs/backend';
import { findPython } from './torch/python';
import { ProbeSetupError } from './errors';

export { ProbeSetupError };

export interface BackendPlan {
  backend: BackendName;
  device: string;
  notes: string[];
  tfjs?: TfjsRuntime;
  python?: string;
}

const TORCHSCRIPT = new Set(['.pt', '.pth', '.ts', '.torchscript', '.ptl']);
export function isTorchScriptPath(p: string): boolean {
  return TORCHSCRIPT.has(extname(p).toLowerCase());
}

async function torchPlan(config: ProbeConfig, notes: string[]): Promise<BackendPlan> {
  const found = await findPython(config.python);
  if ('error' in found) throw new ProbeSetupError(found.error);
  const onCuda = found.cuda && config.device !== 'cpu';
  if (config.device === 'cuda' && !found.cuda) {
    throw new ProbeSetupError(`PyTorch at ${found.python} sees no CUDA device (torch ${found.torch}); set the device to auto or cpu`);
  }
  return { backend: 'pytorch', device: onCuda ? found.device : 'CPU', notes, python: found.python };
}

async function tfjsPlan(choice: 'auto' | 'tfjs-node' | 'tfjs-wasm' | 'tfjs-cpu', notes: string[]): Promise<BackendPlan> {
  const rt = await initTfjs(choice);
  return { backend: rt.backend, device: rt.device, notes: [...notes, ...rt.notes], tfjs: rt };
}

export async function resolveBackend(config: ProbeConfig, log: (m: string) => void): Promise<BackendPlan> {
  const choice = config.backend;
  if (config.model.kind === 'file') {
    if (isTorchScriptPath(config.model.path)) {
      if (choice !== 'auto' && choice !== 'pytorch') {
        throw new ProbeSetupError(`${config.model.path} is a TorchScript model: it trains on the PyTorch backend, not ${choice}`);
      }
      return torchPlan(config, []);
    }
    if (choice === 'pytorch') {
      throw new ProbeSetupError(`${config.model.path} is a tfjs/Keras model: it trains on a tfjs backend (the PyTorch backend takes TorchScript files or presets)`);
    }
    return tfjsPlan(choice, []);
  }
  if (choice === 'pytorch') return torchPlan(config, []);
  if (choice !== 'auto') return tfjsPlan(choice, []);
  // auto with a preset: a GPU when there is one.
  const rt = await initTfjs('auto');
  if (rt.backend === 'tfjs-node-gpu') return { backend: rt.backend, device: rt.device, notes: rt.notes, tfjs: rt };
  if (config.device !== 'cpu') {
    log('looking for PyTorch with CUDA');
    const found = await findPython(config.python);
    if (!('error' in found) && found.cuda) {
      return { backend: 'pytorch', device: found.device, notes: rt.notes, python: found.python };
    }
  }
  return { backend: rt.backend, device: rt.device, notes: rt.notes, tfjs: rt };
}
