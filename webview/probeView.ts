/**
 * The probe view: a training probe's status, runs, charts and results table. Events are folded
 * into the model at once, but the page is brought up to it at most ~10 times a second, so a
 * fast stream costs a few chart updates, not one per message.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { PanelToHost, Rendered } from '../src/shared/panelProtocol';
import type { ProbeEvent, TableRow } from '../src/shared/probeProtocol';
import { LOSS_TABLE } from '../src/shared/probeProtocol';
import { ProbeCharts, firstFailure, runLabel, seedDash, seedIndex, type ChartSettings, type ProbePalette } from './probeCharts';
import { BACKEND_WORDS, applyEvent, modelOf, probeStatus, stateOf, type ProbeModel, type ProbeState, type RunModel } from './probeModel';

/** What the page keeps for a probe (inside the webview state). */
export interface ProbeViewState extends ProbeState {
  source?: string;
  settings?: ChartSettings;
}

export interface ProbeHost {
  post(message: PanelToHost): void;
  save(state: ProbeViewState): void;
  /** Called after each flush, when the DOM shows the model. */
  rendered(): void;
}

const FLUSH_MS = 100;
const DEFAULT_SETTINGS: ChartSettings = { smoothing: 0.6, logY: false };

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const num = (v: number | null | undefined, digits: number): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pm = (mean: number | null, std: number | null, digits = 3): string => (mean === null ? '–' : `${num(mean, digits)} ± ${num(std, digits)}`);
const pct = (v: number | null): string => (v === null ? '–' : `${(100 * v).toFixed(1)}%`);

export class ProbeView {
  private model: ProbeModel;
  private source: string | undefined;
  private settings: ChartSettings;
  private charts: ProbeCharts | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private cancelling = false;
  private readonly parts = {
    status: el('div', 'probe-status'),
    bar: el('vscode-progress-bar'),
    cancel: el('vscode-button', 'probe-cancel', 'Cancel'),
    open: el('vscode-button', 'probe-open', 'Open saved run…'),
    error: el('p', 'error'),
    banner: el('section', 'banner'),
    summary: el('dl', 'summary'),
    runs: el('ul', 'probe-runs'),
    results: el('section', 'probe-results'),
    log: el('details', 'probe-log'),
  };

  constructor(
    private readonly app: HTMLElement,
    state: ProbeViewState,
    private readonly host: ProbeHost,
  ) {
    this.model = modelOf(state.events, state.strides);
    this.source = state.source;
    this.settings = { ...DEFAULT_SETTINGS, ...state.settings };
    this.parts.bar.max = 1;
    this.parts.open.secondary = true;
    this.parts.cancel.addEventListener('click', () => {
      if (this.cancelling || probeStatus(this.model) !== 'running') return;
      this.cancelling = true;
      this.host.post({ type: 'probe/cancel' });
      this.flush();
    });
    this.parts.open.addEventListener('click', () => this.host.post({ type: 'probe/open' }));
  }

  /** One live event. A new probe gets fresh charts; everything else waits for the next flush. */
  event(e: ProbeEvent, palette: ProbePalette): void {
    applyEvent(this.model, e);
    if (e.type === 'probe/started') {
      this.source = undefined;
      this.cancelling = false;
      this.build(palette);
    }
    if (e.type === 'probe/finished') this.cancelling = false;
    this.schedule();
  }

  /** A saved run: replayed at once and drawn without waiting. */
  load(events: ProbeEvent[], source: string | undefined, palette: ProbePalette): void {
    this.model = modelOf(events);
    this.source = source;
    this.cancelling = false;
    this.build(palette);
  }

  /** Builds the page from scratch (first show, new probe, theme change) and draws it now. */
  build(palette: ProbePalette): void {
    this.charts?.destroy();
    this.app.innerHTML = '';
    const p = this.parts;
    const title = this.source ? `Training probe: ${this.source}` : 'Training probe';
    const actions = el('div', 'probe-actions');
    actions.append(p.cancel, p.open);
    const head = el('section', 'probe-head');
    head.append(p.status, p.bar, actions, p.error);
    const grid = el('section', 'charts probe-charts');
    this.app.append(el('h1', undefined, title), head, p.banner, p.summary, el('h2', undefined, 'Runs'), p.runs, this.controls(), grid, p.results, p.log);
    this.charts = new ProbeCharts(grid, palette, this.settings, this.model.started?.config.steps);
    this.flush();
  }

  private controls(): HTMLElement {
    const box = el('section', 'probe-controls');
    const label = el('label', undefined, 'smoothing ');
    const slider = el('input');
    Object.assign(slider, { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(this.settings.smoothing) });
    const shown = el('span', 'probe-smoothing', this.settings.smoothing.toFixed(2));
    slider.addEventListener('input', () => {
      this.settings = { ...this.settings, smoothing: Number(slider.value) };
      shown.textContent = this.settings.smoothing.toFixed(2);
      this.reconfigure();
    });
    label.append(slider, shown);
    const log = el('vscode-checkbox', 'probe-logy');
    log.label = 'log y (losses)';
    log.checked = this.settings.logY;
    log.addEventListener('change', () => {
      this.settings = { ...this.settings, logY: log.checked };
      this.reconfigure();
    });
    box.append(label, log);
    return box;
  }

  private reconfigure(): void {
    this.charts?.configure(this.model, this.settings);
    this.save();
    this.host.rendered();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, FLUSH_MS - (Date.now() - this.lastFlush)));
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlush = Date.now();
    this.header();
    this.runList();
    this.table();
    this.logs();
    this.charts?.update(this.model);
    this.save();
    this.host.rendered();
  }

  private save(): void {
    this.host.save({ ...stateOf(this.model), source: this.source, settings: this.settings });
  }

  private header(): void {
    const m = this.model;
    const p = this.parts;
    const status = probeStatus(m);
    const running = status === 'running';
    p.status.className = `probe-status status-${status}`;
    p.status.textContent = running
      ? `Running${this.cancelling ? ' (cancelling…)' : ''}${m.progress ? ` · ${Math.round(100 * m.progress.fraction)}% · ${m.progress.message}` : ''}`
      : { done: 'Done', cancelled: 'Cancelled', failed: 'Failed' }[status];
    p.bar.hidden = !running;
    if (m.progress) p.bar.value = m.progress.fraction;
    p.cancel.hidden = !running;
    p.cancel.disabled = this.cancelling;
    p.open.hidden = running;
    p.error.textContent = status === 'failed' ? (m.finished?.message ?? 'The probe failed.') : '';
    p.banner.replaceChildren(...(m.started?.notes ?? []).map((n) => el('div', 'warning', n)));
    const dl = p.summary;
    dl.replaceChildren();
    const add = (k: string, v: string | undefined): void => {
      if (v) dl.append(el('dt', undefined, k), el('dd', undefined, v));
    };
    const s = m.started;
    const first: RunModel | undefined = m.runs.values().next().value;
    add('backend', s ? `${BACKEND_WORDS[s.backend] ?? s.backend} (${s.backend})` : undefined);
    add('device', s?.device);
    add('model', first?.info.model);
    add('data', first ? `${first.info.data} · ${first.info.classes} classes · ${first.info.trainRows} train / ${first.info.testRows} held-out rows` : undefined);
    if (s) {
      const c = s.config;
      add('training', `${c.steps} steps · batch ${c.batchSize} · ${c.optimizer} lr ${c.learningRate} · eval every ${c.evalEvery} on ${c.evalRows} rows`);
      add('runs', `${c.losses.map((l) => LOSS_TABLE[l].label).join(', ')} × seeds ${c.seeds.join(', ')} (${s.runs} runs)`);
      add('started', Number.isNaN(Date.parse(s.time)) ? s.time : new Date(s.time).toLocaleString());
    }
    add('saved to', m.finished?.savedTo);
  }

  private runList(): void {
    const items = [...this.model.runs.values()].map((r) => {
      const li = el('li', `run run-${r.finished?.status ?? 'running'}`);
      li.dataset.runId = r.info.runId;
      const state = r.finished
        ? `${r.finished.status}${r.finished.message ? `: ${r.finished.message}` : ''} · ${r.finished.summary.steps} steps · ${num(r.finished.summary.stepsPerSecond, 1)} steps/s`
        : `running · step ${r.lastStep}`;
      const fail = firstFailure(r);
      li.append(this.swatch(r), el('span', 'run-name', runLabel(r)), el('span', 'run-state', state));
      if (fail !== null) li.append(el('span', 'run-naive', `naive float32 CC fails from step ${fail}`));
      return li;
    });
    this.parts.runs.replaceChildren(...items);
  }

  /** The run's line as drawn: its loss's colour and its seed's dash (SVG attributes, no inline style). */
  private swatch(r: RunModel): SVGSVGElement {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', '28');
    svg.setAttribute('height', '10');
    svg.setAttribute('class', `swatch loss-${r.info.loss}`);
    const line = document.createElementNS(ns, 'line');
    for (const [k, v] of Object.entries({ x1: '1', y1: '5', x2: '27', y2: '5', 'stroke-width': '2.5', 'stroke-dasharray': seedDash(seedIndex(this.model, r)).join(' ') || 'none' })) line.setAttribute(k, v);
    svg.append(line);
    return svg;
  }

  private table(): void {
    const box = this.parts.results;
    const rows: TableRow[] | undefined = this.model.finished?.table;
    if (!rows) {
      box.replaceChildren();
      return;
    }
    const table = el('table', 'results');
    const head = el('tr');
    for (const h of ['loss', 'runs', 'accuracy', 'ECE', 'held-out loss', 'near-uniform', 'first naive failure', 'steps/s']) head.append(el('th', undefined, h));
    table.append(el('thead'));
    table.tHead?.append(head);
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      const cells = [LOSS_TABLE[r.loss].label, String(r.runs), pm(r.accuracyMean, r.accuracyStd), pm(r.eceMean, r.eceStd), num(r.evalLossMean, 4), pct(r.nearUniformMean), r.firstNaiveFailureStep === null ? '–' : `step ${r.firstNaiveFailureStep}`, num(r.stepsPerSecond, 1)];
      cells.forEach((c, i) => tr.append(el('td', i === 0 ? undefined : 'num', c)));
      body.append(tr);
    }
    table.append(body);
    box.replaceChildren(el('h2', undefined, 'Results'), table);
  }

  private logs(): void {
    const logs = this.model.logs;
    this.parts.log.hidden = logs.length === 0;
    if (!this.parts.log.firstChild) this.parts.log.append(el('summary'), el('pre'));
    this.parts.log.querySelector('summary')!.textContent = `Log (${logs.length})`;
    this.parts.log.querySelector('pre')!.textContent = logs.join('\n');
  }

  /** The probe part of the Rendered report, read back from the DOM and the charts. */
  report(): { probe: NonNullable<Rendered['probe']>; charts: string[] } {
    const text = (e: Element | null): string => (e?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const dd = (k: string): string => text([...this.parts.summary.querySelectorAll('dt')].find((d) => d.textContent === k)?.nextElementSibling ?? null);
    return {
      charts: this.charts?.describe() ?? [],
      probe: {
        status: probeStatus(this.model),
        runs: this.parts.runs.children.length,
        points: this.charts?.trainingPoints() ?? 0,
        evals: [...this.model.runs.values()].reduce((n, r) => n + r.evals.length, 0),
        table: Array.from(this.parts.results.querySelectorAll('table tr'), (tr) => Array.from(tr.children, (c) => text(c))),
        backend: dd('backend'),
        device: dd('device'),
      },
    };
  }

  destroy(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.charts?.destroy();
    this.charts = undefined;
  }
}
