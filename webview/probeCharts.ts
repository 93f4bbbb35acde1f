/**
 * The probe's charts. Built once per probe (and per theme), then updated in place: datasets are
 * appended as runs start and their data replaced at each flush, with animations off, so a
 * stream of events never rebuilds a chart.
 */
import { Chart, type ChartDataset, type ScriptableContext } from 'chart.js';
import type { EvalPoint, LossKind } from '../src/shared/probeProtocol';
import { LOSS_TABLE } from '../src/shared/probeProtocol';
import { debiasedEma } from '../src/core/probe/smoothing';
import type { ProbeModel, RunModel } from './probeModel';

export interface ProbePalette {
  text: string;
  grid: string;
  font: string;
  loss: Record<LossKind, string>;
}

export interface ChartSettings {
  /** EMA factor β, 0…0.99. */
  smoothing: number;
  logY: boolean;
}

type Role = 'raw' | 'ema' | 'eval' | 'max';
interface Spec {
  title: string;
  roles: Role[];
  /** For eval charts: the figure drawn (for 'max', the second one). */
  value?: (p: EvalPoint) => number;
  maxValue?: (p: EvalPoint) => number;
  min?: number;
  max?: number;
  suggestedMax?: number;
  /** Follows the log-y toggle. */
  loss?: boolean;
  legend?: boolean;
  wide?: boolean;
}

const SPECS: Spec[] = [
  { title: 'training loss', roles: ['raw', 'ema'], loss: true, legend: true, wide: true },
  { title: 'held-out loss', roles: ['eval'], value: (p) => p.loss, loss: true },
  { title: 'held-out accuracy', roles: ['eval'], value: (p) => p.accuracy, min: 0, max: 1 },
  { title: 'expected calibration error', roles: ['eval'], value: (p) => p.ece, min: 0 },
  { title: 'near-uniform fraction', roles: ['eval'], value: (p) => p.nearUniform, min: 0, max: 1 },
  {
    title: 'naive float32 digits lost (median; max dashed)',
    roles: ['eval', 'max'],
    value: (p) => p.digitsLostMedian,
    maxValue: (p) => p.digitsLostMax,
    min: 0,
    suggestedMax: 7.3,
  },
];

/** One dash pattern per seed (by its place in the probe's seed list), cycling. */
const SEED_DASH: number[][] = [[], [8, 4], [2, 3], [12, 3, 2, 3]];

type Point = { x: number; y: number };
type LineSet = ChartDataset<'line', Point[]>;
interface Line {
  runId: string;
  role: Role;
}

/** Any CSS colour with an alpha, through the canvas's own colour parser. */
function withAlpha(color: string, alpha: number): string {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return color;
  ctx.fillStyle = color;
  const c = ctx.fillStyle; // '#rrggbb' or 'rgba(r, g, b, a)'
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${alpha})`;
  const rgba = /^rgba\((\d+), (\d+), (\d+), ([\d.]+)\)$/.exec(c);
  return rgba ? `rgba(${rgba[1]}, ${rgba[2]}, ${rgba[3]}, ${Number(rgba[4]) * alpha})` : color;
}

export const runLabel = (r: RunModel): string => `${LOSS_TABLE[r.info.loss].label} · seed ${r.info.seed}`;

export function seedIndex(m: ProbeModel, r: RunModel): number {
  const listed = m.started?.config.seeds.indexOf(r.info.seed) ?? -1;
  if (listed >= 0) return listed;
  const seen = [...new Set([...m.runs.values()].filter((x) => x.info.loss === r.info.loss).map((x) => x.info.seed))];
  return Math.max(0, seen.indexOf(r.info.seed));
}

export const seedDash = (i: number): number[] => SEED_DASH[i % SEED_DASH.length];

/** The step of a run's first naive float32 failure: from its summary, or live from its evals. */
export const firstFailure = (r: RunModel): number | null =>
  r.finished?.summary.firstNaiveFailureStep ?? r.evals.find((p) => p.naiveFailure)?.step ?? null;

/**
 * An upper y limit when a few points (a diverging run) lie far above the rest, so the other
 * runs stay readable: the upper quartile plus 6 interquartile ranges. Undefined when nothing is
 * that far out.
 */
export function clipAbove(values: number[]): number | undefined {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length < 8) return undefined;
  const q1 = v[Math.floor(0.25 * v.length)];
  const q3 = v[Math.floor(0.75 * v.length)];
  const limit = q3 + 6 * Math.max(q3 - q1, 1e-6 * Math.abs(q3), 1e-12);
  return v[v.length - 1] > limit ? Number(limit.toPrecision(2)) : undefined;
}

export class ProbeCharts {
  private readonly charts: Chart<'line', Point[]>[] = [];
  private readonly lines: Line[][] = [];
  private readonly failureStep = new Map<string, number | null>();

  constructor(
    container: HTMLElement,
    private readonly p: ProbePalette,
    private settings: ChartSettings,
    steps: number | undefined,
  ) {
    for (const spec of SPECS) {
      const box = document.createElement('div');
      box.className = spec.wide ? 'chart wide' : 'chart';
      const canvas = document.createElement('canvas');
      box.append(canvas);
      container.append(box);
      this.lines.push([]);
      this.charts.push(this.make(canvas, spec, steps));
    }
  }

  private make(canvas: HTMLCanvasElement, spec: Spec, steps: number | undefined): Chart<'line', Point[]> {
    const axis = { ticks: { color: this.p.text, font: { family: this.p.font } }, grid: { color: this.p.grid } };
    const font = { family: this.p.font };
    const lines = this.lines[this.lines.length - 1];
    return new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        plugins: {
          title: { display: true, text: this.title(spec), color: this.p.text, font },
          legend: {
            display: spec.legend === true,
            position: 'right',
            // One entry per run: the faint raw line shares its smoothed line's name.
            labels: { color: this.p.text, font, boxHeight: 2, filter: (item) => lines[item.datasetIndex ?? 0]?.role !== 'raw' },
          },
          tooltip: { filter: (item) => lines[item.datasetIndex]?.role !== 'raw' || this.settings.smoothing === 0 },
        },
        scales: {
          x: { ...axis, type: 'linear', min: 0, max: steps, title: { display: true, text: 'step', color: this.p.text, font } },
          y: {
            ...axis,
            // A clipped top is not a round number: no tick of its own, to crowd the one below.
            ticks: { ...axis.ticks, includeBounds: !spec.loss },
            type: spec.loss && this.settings.logY ? 'logarithmic' : 'linear',
            min: spec.min,
            max: spec.max,
            suggestedMax: spec.suggestedMax,
          },
        },
      },
    });
  }

  private title(spec: Spec, clippedAt?: number): string {
    if (spec.loss && this.settings.logY) return `${spec.title} (log y)`;
    return clippedAt === undefined ? spec.title : `${spec.title} (y clipped at ${clippedAt}; log y shows all)`;
  }

  private dataset(m: ProbeModel, run: RunModel, role: Role): LineSet {
    const color = this.p.loss[run.info.loss];
    const dash = seedDash(seedIndex(m, run));
    const runId = run.info.runId;
    const base = { label: runLabel(run), borderColor: color, backgroundColor: color, data: [] as Point[], spanGaps: false };
    switch (role) {
      case 'raw':
        return { ...base, borderColor: withAlpha(color, 0.28), borderWidth: 1, pointRadius: 0, order: 2 };
      case 'ema':
        return { ...base, borderWidth: 2, borderDash: dash, pointRadius: 0, order: 1 };
      default: {
        // Eval points are sparse: show them, and mark the first naive failure with a cross.
        const failed = (c: ScriptableContext<'line'>): boolean => (c.raw as Point | undefined)?.x === this.failureStep.get(runId);
        return {
          ...base,
          label: role === 'max' ? `${base.label} (max)` : base.label,
          borderColor: role === 'max' ? withAlpha(color, 0.6) : color,
          borderWidth: role === 'max' ? 1.5 : 2,
          borderDash: role === 'max' ? [4, 3] : dash,
          pointRadius: (c) => (failed(c) ? 7 : role === 'max' ? 0 : 2),
          pointStyle: (c) => (failed(c) ? 'crossRot' : 'circle'),
          pointBorderWidth: (c) => (failed(c) ? 2 : 1),
        };
      }
    }
  }

  private points(run: RunModel, spec: Spec, role: Role): Point[] {
    const logY = spec.loss === true && this.settings.logY;
    // A log axis cannot show y ≤ 0 (a CC NLL can be negative): those become gaps.
    const y = (v: number): number => (logY && !(v > 0) ? NaN : Number.isFinite(v) ? v : NaN);
    switch (role) {
      case 'raw':
        return run.steps.map((x, i) => ({ x, y: y(run.losses[i]) }));
      case 'ema': {
        // The core's debiased EMA (TensorBoard's); a kept point stands for `stride` raw steps,
        // so it weighs as many: β^stride per point.
        const s = debiasedEma(run.losses, Math.pow(this.settings.smoothing, run.stride));
        return run.steps.map((x, i) => ({ x, y: y(s[i]) }));
      }
      case 'eval':
        return run.evals.map((p) => ({ x: p.step, y: y(spec.value!(p)) }));
      case 'max':
        return run.evals.map((p) => ({ x: p.step, y: y(spec.maxValue!(p)) }));
    }
  }

  /** Brings every chart up to the model, in place. */
  update(m: ProbeModel): void {
    for (const [id, run] of m.runs) this.failureStep.set(id, firstFailure(run));
    SPECS.forEach((spec, c) => {
      const chart = this.charts[c];
      const lines = this.lines[c];
      for (const run of m.runs.values()) {
        if (lines.some((l) => l.runId === run.info.runId)) continue;
        for (const role of spec.roles) {
          lines.push({ runId: run.info.runId, role });
          chart.data.datasets.push(this.dataset(m, run, role));
        }
      }
      lines.forEach((l, i) => {
        const run = m.runs.get(l.runId);
        chart.data.datasets[i].data = run ? this.points(run, spec, l.role) : [];
      });
      const y = chart.options.scales?.y;
      if (spec.loss && y) {
        const clip = this.settings.logY ? undefined : clipAbove(chart.data.datasets.flatMap((d) => d.data.map((p) => p.y)));
        y.max = clip;
        if (chart.options.plugins?.title) chart.options.plugins.title.text = this.title(spec, clip);
      }
      chart.update('none');
    });
  }

  /** A new smoothing or log-y setting, applied to the same charts. */
  configure(m: ProbeModel, settings: ChartSettings): void {
    this.settings = settings;
    SPECS.forEach((spec, c) => {
      const opts = this.charts[c].options;
      if (spec.loss && opts.scales?.y) opts.scales.y.type = settings.logY ? 'logarithmic' : 'linear';
    });
    this.update(m);
  }

  /** "title: n/n/… points" per chart, for the Rendered report. */
  describe(): string[] {
    return this.charts.map((c) => `${String(c.options.plugins?.title?.text ?? '')}: ${c.data.datasets.map((d) => d.data.length).join('/')} points`);
  }

  /** Training points drawn: finite values of the raw lines. */
  trainingPoints(): number {
    let n = 0;
    this.lines[0].forEach((l, i) => {
      if (l.role === 'raw') for (const p of this.charts[0].data.datasets[i].data) if (Number.isFinite(p.y)) n++;
    });
    return n;
  }

  destroy(): void {
    for (const c of this.charts) c.destroy();
  }
}
