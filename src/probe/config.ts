/**
 * Probe settings: the defaults (shared by the CLI and the extension) and the parsing of the
 * model and loss specifications users type.
 */
import {
  BACKEND_CHOICES,
  LOSS_KINDS,
  PRESETS,
  type BackendChoice,
  type DataSpec,
  type LossKind,
  type ModelSpec,
  type PresetName,
  type PresetOptions,
  type ProbeConfig,
} from '../shared/probeProtocol';
import { ProbeSetupError } from './errors';

export const DEFAULT_PRESET_OPTIONS: Record<PresetName, PresetOptions> = {
  mlp: { hidden: 256, batchNorm: false, dropout: 0, weightDecay: 0 },
  cnn: { hidden: 128, batchNorm: false, dropout: 0, weightDecay: 0 },
};

export const DEFAULT_DATA: Record<'fashion-mnist' | 'synthetic', DataSpec> = {
  'fashion-mnist': { kind: 'fashion-mnist', train: 5000, test: 1000 },
  synthetic: { kind: 'synthetic', classes: 10, features: 32, train: 4000, test: 1000 },
};

export function defaultProbeConfig(): ProbeConfig {
  return {
    model: { kind: 'preset', preset: 'mlp', options: { ...DEFAULT_PRESET_OPTIONS.mlp } },
    data: { ...DEFAULT_DATA['fashion-mnist'] },
    losses: ['ce', 'ls', 'cc-ls'],
    seeds: [1],
    steps: 300,
    batchSize: 64,
    learningRate: 1e-3,
    optimizer: 'adam',
    evalEvery: 25,
    evalRows: 1000,
    alpha: 0.1,
    temperature: 2,
    backend: 'auto',
    device: 'auto',
  };
}

/** "preset:cnn" → a preset; anything else is a model file path. */
export function parseModel(text: string, options?: Partial<PresetOptions>): ModelSpec {
  if (text.startsWith('preset:')) {
    const name = text.slice('preset:'.length);
    if (!(PRESETS as readonly string[]).includes(name)) {
      throw new ProbeSetupError(`unknown preset '${name}' (known: ${PRESETS.join(', ')})`);
    }
    const preset = name as PresetName;
    return { kind: 'preset', preset, options: { ...DEFAULT_PRESET_OPTIONS[preset], ...options } };
  }
  return { kind: 'file', path: text };
}

/** "ce,ls,cc-ls" → the loss kinds, in order, without repeats. */
export function parseLosses(text: string): LossKind[] {
  const out: LossKind[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(LOSS_KINDS as readonly string[]).includes(part)) {
      throw new ProbeSetupError(`unknown loss '${part}' (known: ${LOSS_KINDS.join(', ')})`);
    }
    if (!out.includes(part as LossKind)) out.push(part as LossKind);
  }
  if (out.length === 0) throw new ProbeSetupError('no losses given');
  return out;
}

/** "3" → seeds 1, 2, 3; "7,11" → seeds 7 and 11. */
export function parseSeeds(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  const nums = parts.map(Number);
  if (nums.length === 0 || nums.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new ProbeSetupError(`seeds: a count ("3") or a list of integers ("7,11"), got '${text}'`);
  }
  if (parts.length === 1) {
    if (nums[0] < 1 || nums[0] > 100) throw new ProbeSetupError(`seeds: a count from 1 to 100, got ${nums[0]}`);
    return Array.from({ length: nums[0] }, (_, i) => i + 1);
  }
  return nums;
}

export function parseBackend(text: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(text)) {
    throw new ProbeSetupError(`unknown backend '${text}' (known: ${BACKEND_CHOICES.join(', ')})`);
  }
  return text as BackendChoice;
}
