import { join } from 'node:path';
import { formatTable } from '../core/probe/table';
import { DEFAULT_DATA, defaultProbeConfig, parseBackend, parseLosses, parseModel, parseSeeds } from '../probe/config';
import { startProbe } from '../probe/host';
import type { DataSpec, EvalPoint, ProbeConfig, ProbeEvent, RunInfo, RunStatus } from '../shared/probeProtocol';
import { UsageError, checkKnown, flag, stringOption, type ParsedArgs } from './args';

export const PROBE_HELP = `loss-lens probe: train a model for a few hundred steps with several losses, side by side

  --model=M            preset:mlp (default), preset:cnn, or a model file: tfjs model.json,
                       Keras model.to_json() .json, .keras archive, TorchScript .pt/.pth
  --batch-norm, --dropout=P, --weight-decay=W, --hidden=N
                       preset switches (defaults: no BatchNorm, no dropout, no decay)
  --data=D             fashion-mnist (default; Debian's dataset-fashion-mnist), synthetic,
                       or a folder of Fashion-MNIST idx files
  --features=F --targets=T
                       instead of --data: features (N×D or N×H×W×C) and targets (N×K soft
                       rows or N integer labels) from .npy/.npz/.csv/.jsonl/.json/.parquet
  --train=N --test=N   subset sizes (fashion-mnist, synthetic); --test-fraction=X for files
  --classes=K --dim=D  the synthetic set's classes and feature count (default 10, 32)
  --teacher=F          teacher logits (N×K) for soft-ce / cc: targets softmax(logits / T)
  --temperature=T      (default 2)   --alpha=A   label smoothing α (default 0.1)
  --losses=L           comma list of ce, ls, cc-ls, soft-ce, cc (default ce,ls,cc-ls)
  --steps=N            (default 300)  --seeds=S  a count or a list (default 1)
  --batch-size=B       (default 64)   --lr=X     (default 1e-3)   --optimizer=adam|sgd
  --eval-every=N       (default 25)   --eval-rows=N  held-out rows per evaluation (1000)
  --backend=B          auto (default), tfjs-wasm, tfjs-node, tfjs-cpu, pytorch
  --python=PATH        interpreter with PyTorch   --device=auto|cpu|cuda (PyTorch)
  --save=DIR           save the run as JSON lines in DIR
  --json               one JSON object on stdout: { runs: [{ loss, seed, backend, device,
                       status, history: [{step, loss}], eval: [{step, loss, accuracy, ece,
                       nearUniform, ...}] }], table: [...] }

Progress goes to stderr. Exit 0 when every run finished, 1 when a run diverged or failed,
2 when the probe could not run, 130 when interrupted.`;

const KNOWN = [
  'model', 'batch-norm', 'dropout', 'weight-decay', 'hidden', 'data', 'features', 'targets', 'train', 'test',
  'test-fraction', 'classes', 'dim', 'teacher', 'temperature', 'alpha', 'losses', 'steps', 'seeds', 'batch-size',
  'lr', 'optimizer', 'eval-every', 'eval-rows', 'backend', 'python', 'device', 'save', 'json', 'help',
];

function num(args: ParsedArgs, key: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = stringOption(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${key} must be ${what}, got '${v}'`);
  return n;
}
const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;

export function probeConfigFromArgs(args: ParsedArgs): ProbeConfig {
  const c = defaultProbeConfig();
  const presetOpts = {
    ...(args.options.has('batch-norm') ? { batchNorm: flag(args, 'batch-norm', false) } : {}),
    ...(args.options.has('dropout') ? { dropout: num(args, 'dropout', (n) => n >= 0 && n < 1, 'in [0, 1)') } : {}),
    ...(args.options.has('weight-decay') ? { weightDecay: num(args, 'weight-decay', (n) => n >= 0, '≥ 0') } : {}),
    ...(args.options.has('hidden') ? { hidden: num(args, 'hidden', positiveInt, 'a positive integer') } : {}),
  };
  c.model = parseModel(stringOption(args, 'model') ?? 'preset:mlp', presetOpts);
  const features = stringOption(args, 'features');
  const targets = stringOption(args, 'targets');
  const data = stringOption(args, 'data');
  const train = num(args, 'train', positiveInt, 'a positive integer');
  const test = num(args, 'test', positiveInt, 'a positive integer');
  let spec: DataSpec;
  if (features || targets) {
    if (!features || !targets) throw new UsageError('--features and --targets go together');
    if (data) throw new UsageError('give either --data or --features/--targets');
    spec = { kind: 'files', features, targets, testFraction: num(args, 'test-fraction', (n) => n > 0 && n < 1, 'in (0, 1)') ?? 0.2 };
  } else if (!data || data === 'fashion-mnist') {
    spec = { ...(DEFAULT_DATA['fashion-mnist'] as Extract<DataSpec, { kind: 'fashion-mnist' }>) };
  } else if (data === 'synthetic') {
    const s = { ...(DEFAULT_DATA.synthetic as Extract<DataSpec, { kind: 'synthetic' }>) };
    s.classes = num(args, 'classes', (n) => Number.isInteger(n) && n >= 2, 'an integer ≥ 2') ?? s.classes;
    s.features = num(args, 'dim', positiveInt, 'a positive integer') ?? s.features;
    spec = s;
  } else {
    spec = { ...(DEFAULT_DATA['fashion-mnist'] as Extract<DataSpec, { kind: 'fashion-mnist' }>), dir: data };
  }
  if ((spec.kind === 'fashion-mnist' || spec.kind === 'synthetic') && (train || test)) {
    spec.train = train ?? spec.train;
    spec.test = test ?? spec.test;
  }
  c.data = spec;
  const losses = stringOption(args, 'losses');
  if (losses) c.losses = parseLosses(losses);
  const seeds = stringOption(args, 'seeds');
  if (seeds) c.seeds = parseSeeds(seeds);
  c.steps = num(args, 'steps', positiveInt, 'a positive integer') ?? c.steps;
  c.batchSize = num(args, 'batch-size', positiveInt, 'a positive integer') ?? c.batchSize;
  c.learningRate = num(args, 'lr', (n) => n > 0, '> 0') ?? c.learningRate;
  const optimizer = stringOption(args, 'optimizer');
  if (optimizer && optimizer !== 'adam' && optimizer !== 'sgd') throw new UsageError(`--optimizer is adam or sgd, got '${optimizer}'`);
  if (optimizer === 'adam' || optimizer === 'sgd') c.optimizer = optimizer;
  c.evalEvery = num(args, 'eval-every', positiveInt, 'a positive integer') ?? c.evalEvery;
  c.evalRows = num(args, 'eval-rows', positiveInt, 'a positive integer') ?? c.evalRows;
  c.alpha = num(args, 'alpha', (n) => n >= 0 && n <= 1, 'in [0, 1]') ?? c.alpha;
  c.temperature = num(args, 'temperature', (n) => n > 0, '> 0') ?? c.temperature;
  c.teacher = stringOption(args, 'teacher');
  const backend = stringOption(args, 'backend');
  if (backend) c.backend = parseBackend(backend);
  c.python = stringOption(args, 'python');
  const device = stringOption(args, 'device');
  if (device && device !== 'auto' && device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device is auto, cpu or cuda, got '${device}'`);
  if (device === 'auto' || device === 'cpu' || device === 'cuda') c.device = device;
  c.saveDir = stringOption(args, 'save');
  return c;
}

interface RunOut {
  info: RunInfo;
  status: RunStatus | 'running';
  message?: string;
  history: { step: number; loss: number }[];
  eval: EvalPoint[];
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export async function runProbeCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<number> {
  checkKnown(args, KNOWN);
  if (flag(args, 'help', false)) {
    out.write(`${PROBE_HELP}\n`);
    return 0;
  }
  if (args.positional.length) throw new UsageError(`unexpected argument '${args.positional[0]}' (options are --key=value)`);
  const config = probeConfigFromArgs(args);
  const json = flag(args, 'json', false);
  const err = process.stderr;
  const runs = new Map<string, RunOut>();
  let final: Extract<ProbeEvent, { type: 'probe/finished' }> | undefined;
  const handle = startProbe(config, {
    workerPath: join(__dirname, 'probeWorker.js'),
    onEvent: (e) => {
      switch (e.type) {
        case 'probe/started':
          err.write(`probe: ${e.runs} run(s) on ${e.backend}, ${e.device}\n`);
          for (const n of e.notes) err.write(`  note: ${n}\n`);
          break;
        case 'probe/log':
          err.write(`  ${e.message}\n`);
          break;
        case 'run/started':
          runs.set(e.run.runId, { info: e.run, status: 'running', history: [], eval: [] });
          err.write(`run ${e.run.runId}: ${e.run.model} on ${e.run.data}\n`);
          break;
        case 'run/steps': {
          const r = runs.get(e.runId);
          e.steps.forEach((step, i) => r?.history.push({ step, loss: e.losses[i] }));
          break;
        }
        case 'run/eval': {
          runs.get(e.runId)?.eval.push(e.point);
          const p = e.point;
          err.write(
            `  ${e.runId} step ${p.step}: held-out loss ${p.loss.toFixed(4)}, accuracy ${pct(p.accuracy)}, ECE ${p.ece.toFixed(4)}, near-uniform ${pct(p.nearUniform)}\n`,
          );
          break;
        }
        case 'run/finished': {
          const r = runs.get(e.runId);
          if (r) {
            r.status = e.status;
            r.message = e.message;
          }
          err.write(`run ${e.runId}: ${e.status}${e.message ? ` (${e.message})` : ''}, ${e.summary.stepsPerSecond.toFixed(1)} steps/s\n`);
          break;
        }
        case 'probe/finished':
          final = e;
          break;
      }
    },
  });
  const onSigint = (): void => handle.cancel();
  process.once('SIGINT', onSigint);
  const outcome = await handle.done;
  process.removeListener('SIGINT', onSigint);
  if (json) {
    const body = {
      status: outcome.status,
      message: outcome.message,
      savedTo: outcome.savedTo,
      runs: [...runs.values()].map((r) => ({
        runId: r.info.runId,
        loss: r.info.loss,
        seed: r.info.seed,
        backend: r.info.backend,
        device: r.info.device,
        model: r.info.model,
        data: r.info.data,
        status: r.status,
        message: r.message,
        history: r.history,
        eval: r.eval,
      })),
      table: final?.table ?? [],
    };
    out.write(`${JSON.stringify(body)}\n`);
  } else if (final && final.table.length) {
    out.write(`${formatTable(final.table)}\n`);
  }
  if (outcome.savedTo) err.write(`saved: ${outcome.savedTo}\n`);
  if (outcome.status === 'cancelled') return 130;
  if (outcome.status === 'failed') {
    err.write(`loss-lens: probe failed: ${outcome.message ?? 'unknown reason'}\n`);
    return runs.size ? 1 : 2;
  }
  return [...runs.values()].every((r) => r.status === 'done') ? 0 : 1;
}
