/**
 * Finds a Python interpreter with PyTorch, asking each candidate for `-m loss_lens_probe --env`.
 */
import { execFile } from 'node:child_process';
import { withProbePath } from './torchRunner';

export interface PythonFound {
  python: string;
  torch: string;
  cuda: boolean;
  device: string;
}

const TIMEOUT_MS = 60_000; // importing torch the first time (cold disk, CUDA init) can take a while

function tryPython(python: string): Promise<PythonFound | string> {
  return new Promise((resolve) => {
    execFile(
      python,
      ['-m', 'loss_lens_probe', '--env'],
      { env: { ...process.env, PYTHONPATH: withProbePath(process.env.PYTHONPATH) }, timeout: TIMEOUT_MS, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return resolve('not found');
          const lines = `${stderr}`.trim().split('\n');
          const last = lines[lines.length - 1] || err.message;
          return resolve(/No module named '?torch'?/.test(`${stderr}`) ? 'no PyTorch (import torch failed)' : last.slice(0, 300));
        }
        try {
          const env = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Omit<PythonFound, 'python'>;
          if (typeof env.torch !== 'string' || typeof env.device !== 'string') return resolve(`unexpected answer ${stdout.slice(0, 200)}`);
          resolve({ python, torch: env.torch, cuda: env.cuda === true, device: env.device });
        } catch {
          resolve(`unexpected answer ${stdout.slice(0, 200)}`);
        }
      },
    );
  });
}

/** Tried after the preferred interpreter. Debian's python3-torch works only with /usr/bin/python3,
 * which another python3 earlier on PATH (pyenv, conda) hides. */
export const FALLBACK_PYTHONS: readonly string[] = ['python3', '/usr/bin/python3', 'python'];

/**
 * The first of `preferred` and then `fallbacks` that imports torch. The error lists what was
 * tried and why each failed.
 */
export async function findPython(preferred?: string, fallbacks: readonly string[] = FALLBACK_PYTHONS): Promise<PythonFound | { error: string }> {
  const candidates = [preferred, ...fallbacks].filter((p): p is string => !!p && p.trim() !== '');
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const r = await tryPython(python);
    if (typeof r !== 'string') return r;
    tried.push(`${python}: ${r}`);
  }
  return {
    error:
      `No Python interpreter with PyTorch was found (tried ${tried.join('; ')}). ` +
      'Install PyTorch (Debian/Ubuntu: `apt install python3-torch`; elsewhere: `pip install torch`, see pytorch.org) ' +
      "or set the probe's `python` option to an interpreter that has it.",
  };
}
