import * as vscode from 'vscode';
import { DEFAULT_DATA, DEFAULT_PRESET_OPTIONS, defaultProbeConfig, parseLosses } from '../../probe/config';
import type { ProbeOutcome } from '../../probe/host';
import { LOSS_KINDS, LOSS_TABLE, type DataSpec, type LossKind, type ModelSpec, type ProbeConfig } from '../../shared/probeProtocol';
import type { Ctx } from '../context';
import { ProbeSession } from '../probe/probeSession';
import { activePythonInterpreter } from '../probe/pythonExtension';

/** Model files a probe trains: tfjs/Keras on tfjs, TorchScript on PyTorch. */
export const MODEL_FILE_EXTENSIONS = ['json', 'keras', 'pt', 'pth'];

/**
 * Loss Lens: Probe Training. From the explorer (a model file), or the palette (quick picks:
 * model or preset, data, losses). The second argument, for scripts and tests, skips the picks:
 * a partial ProbeConfig over the settings. Needs a trusted workspace: a probe loads model files
 * and runs Python.
 */
export function probeTraining(ctx: Ctx) {
  return async (uri?: vscode.Uri, overrides?: Partial<ProbeConfig>): Promise<ProbeOutcome | undefined> => {
    if (!vscode.workspace.isTrusted) {
      const trust = 'Manage Workspace Trust';
      const answer = await vscode.window.showWarningMessage(
        'Loss Lens probes load model files and data and may run Python: they need a trusted workspace.',
        trust,
      );
      if (answer === trust) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    if (ProbeSession.running) {
      const cancel = 'Cancel It';
      const answer = await vscode.window.showWarningMessage('A Loss Lens probe is already running.', cancel);
      if (answer === cancel) ProbeSession.running?.cancel();
      return undefined;
    }
    let config = await fromSettings(ctx);
    if (overrides) {
      config = { ...config, ...overrides };
      if (uri instanceof vscode.Uri) config.model = { kind: 'file', path: uri.fsPath };
    } else {
      const model = uri instanceof vscode.Uri ? ({ kind: 'file', path: uri.fsPath } as ModelSpec) : await pickModel();
      if (!model) return undefined;
      const data = await pickData(config.data);
      if (!data) return undefined;
      const losses = await pickLosses(config.losses, data);
      if (!losses) return undefined;
      config = { ...config, model, data, losses };
    }
    const session = ProbeSession.start(ctx, config);
    const outcome = await session.done;
    if (outcome.status === 'failed') void vscode.window.showErrorMessage(`Loss Lens probe failed: ${outcome.message ?? 'unknown reason'}`);
    return outcome;
  };
}

export function showProbe() {
  return (): boolean => {
    ProbeSession.running?.show();
    return ProbeSession.running !== undefined;
  };
}

export function cancelProbe() {
  return (): boolean => {
    const s = ProbeSession.running;
    s?.cancel();
    return s !== undefined;
  };
}

async function fromSettings(ctx: Ctx): Promise<ProbeConfig> {
  const c = defaultProbeConfig();
  const s = ctx.config;
  c.steps = s.probeSteps;
  c.batchSize = s.probeBatchSize;
  c.learningRate = s.probeLearningRate;
  c.seeds = Array.from({ length: s.probeSeeds }, (_, i) => i + 1);
  c.losses = parseLosses(s.probeLosses.join(','));
  c.alpha = s.probeAlpha;
  c.temperature = s.probeTemperature;
  c.evalEvery = s.probeEvalEvery;
  c.evalRows = s.probeEvalRows;
  c.backend = s.probeBackend;
  c.device = s.probeDevice;
  c.python = s.probePythonPath || (await activePythonInterpreter(ctx));
  const dir = s.probeFashionMnistDir;
  if (dir && c.data.kind === 'fashion-mnist') c.data = { ...c.data, dir };
  const storage = ctx.extension.storageUri ?? ctx.extension.globalStorageUri;
  c.saveDir = vscode.Uri.joinPath(storage, 'probes').fsPath;
  return c;
}

interface Pick<T> extends vscode.QuickPickItem {
  value: T | 'file' | 'files' | 'idx';
}

async function pickModel(): Promise<ModelSpec | undefined> {
  const preset = (name: 'mlp' | 'cnn', over: Partial<typeof DEFAULT_PRESET_OPTIONS.mlp> = {}): ModelSpec => ({
    kind: 'preset',
    preset: name,
    options: { ...DEFAULT_PRESET_OPTIONS[name], ...over },
  });
  const items: Pick<ModelSpec>[] = [
    { label: 'MLP', description: 'preset: 2 hidden layers of 256', value: preset('mlp') },
    { label: 'CNN', description: "preset: the paper's kind (conv 32, conv 64, dense 128), no BatchNorm", value: preset('cnn') },
    { label: 'CNN + BatchNorm', description: 'preset', value: preset('cnn', { batchNorm: true }) },
    { label: 'CNN + dropout + weight decay', description: 'preset: dropout 0.3, weight decay 5e-4', value: preset('cnn', { dropout: 0.3, weightDecay: 5e-4 }) },
    { label: 'Model file…', description: 'tfjs model.json, Keras .json / .keras, TorchScript .pt', value: 'file' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Loss Lens probe: the model', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value !== 'file') return picked.value as ModelSpec;
  const file = await vscode.window.showOpenDialog({
    title: 'Loss Lens probe: a model file',
    filters: { Models: MODEL_FILE_EXTENSIONS },
    canSelectMany: false,
  });
  return file?.[0] ? { kind: 'file', path: file[0].fsPath } : undefined;
}

async function pickData(current: DataSpec): Promise<DataSpec | undefined> {
  const fm = (current.kind === 'fashion-mnist' ? current : DEFAULT_DATA['fashion-mnist']) as Extract<DataSpec, { kind: 'fashion-mnist' }>;
  const items: Pick<DataSpec>[] = [
    { label: 'Fashion-MNIST', description: `${fm.train} train / ${fm.test} test images (Debian's dataset-fashion-mnist)`, value: fm },
    { label: 'Fashion-MNIST from a folder…', description: 'idx files, .gz or not', value: 'idx' },
    { label: 'Synthetic', description: '10 classes, 32 features, a linear teacher (soft targets included)', value: DEFAULT_DATA.synthetic },
    { label: 'Features and targets files…', description: '.npy, .npz, .csv, .jsonl, .json, .parquet', value: 'files' },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Loss Lens probe: the data', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.value === 'idx') {
    const dir = await vscode.window.showOpenDialog({ title: 'A folder of Fashion-MNIST idx files', canSelectFolders: true, canSelectFiles: false });
    return dir?.[0] ? { ...fm, dir: dir[0].fsPath } : undefined;
  }
  if (picked.value === 'files') {
    const exts = ['npy', 'npz', 'csv', 'tsv', 'jsonl', 'ndjson', 'json', 'parquet'];
    const features = await vscode.window.showOpenDialog({ title: 'Features (N×D or N×H×W×C)', filters: { Data: exts } });
    if (!features?.[0]) return undefined;
    const targets = await vscode.window.showOpenDialog({ title: 'Targets (N×K soft rows or N labels)', filters: { Data: exts } });
    if (!targets?.[0]) return undefined;
    return { kind: 'files', features: features[0].fsPath, targets: targets[0].fsPath, testFraction: 0.2 };
  }
  return picked.value as DataSpec;
}

async function pickLosses(current: LossKind[], data: DataSpec): Promise<LossKind[] | undefined> {
  const soft = data.kind !== 'fashion-mnist';
  const items = LOSS_KINDS.map((k) => ({
    label: LOSS_TABLE[k].label,
    description: k,
    picked: current.includes(k) || (soft && (k === 'soft-ce' || k === 'cc')),
    loss: k,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Loss Lens probe: the losses (soft-ce and cc need soft targets)',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!picked || picked.length === 0) return undefined;
  return picked.map((p) => p.loss);
}
