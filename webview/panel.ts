/**
 * The Loss Lens panel (runs in the webview). Data arrives only as typed messages
 * (src/shared/panelProtocol.ts); the page keeps the last view in the webview state, so it is
 * restored when the panel is hidden and shown, or revived after a restart. It shows either an
 * inspected file or a training probe: whichever kind of message came last.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from 'chart.js';
import type { HostToPanel, InspectView, PanelToHost } from '../src/shared/panelProtocol';
import type { ProbePalette } from './probeCharts';
import { ProbeView, type ProbeHost, type ProbeViewState } from './probeView';
import { renderView, type Palette } from './render';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Title, Tooltip, Legend);

/** The webview state: one of the two views (the one shown). */
interface PanelState {
  view?: InspectView;
  probe?: ProbeViewState;
}
interface VsCodeApi {
  postMessage(message: PanelToHost): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
let charts: Chart[] = [];
let current: InspectView | undefined = vscode.getState()?.view;
let mode: 'inspect' | 'probe' | undefined = current ? 'inspect' : undefined;
// Kept while an inspection is shown, so a probe that goes on streaming comes back whole.
let probe: ProbeView | undefined;
const probeHost: ProbeHost = {
  post: (m) => vscode.postMessage(m),
  save: (s) => {
    if (mode === 'probe') vscode.setState({ probe: s });
  },
  rendered: () => {
    if (mode === 'probe') report();
  },
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Chart colours from the theme's own chart and editor colours, read at each render. */
function palette(): Palette {
  return {
    bar: cssVar('--vscode-charts-blue', '#3794ff'),
    warn: cssVar('--vscode-charts-orange', '#d18616'),
    line: cssVar('--vscode-charts-purple', '#b180d7'),
    text: cssVar('--vscode-foreground', '#cccccc'),
    grid: cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)'),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

/** A fixed colour per loss kind, from the theme's chart colours. */
function probePalette(): ProbePalette {
  const p = palette();
  return {
    text: p.text,
    grid: p.grid,
    font: p.font,
    loss: {
      ce: cssVar('--vscode-charts-blue', '#3794ff'),
      ls: cssVar('--vscode-charts-yellow', '#cca700'),
      'cc-ls': cssVar('--vscode-charts-green', '#89d185'),
      'soft-ce': cssVar('--vscode-charts-purple', '#b180d7'),
      cc: cssVar('--vscode-charts-red', '#f14c4c'),
    },
  };
}

function themeKind(): string {
  const c = document.body.classList;
  return c.contains('vscode-high-contrast-light') ? 'high-contrast-light' : c.contains('vscode-high-contrast') ? 'high-contrast' : c.contains('vscode-dark') ? 'dark' : 'light';
}

/** Leaves the probe view (its charts go; its model stays). */
function toInspect(): void {
  if (mode === 'probe') probe?.destroy();
  mode = 'inspect';
}

function toProbe(): ProbeView {
  probe ??= new ProbeView(app, { events: [] }, probeHost);
  if (mode !== 'probe') {
    for (const c of charts) c.destroy();
    charts = [];
    current = undefined;
    mode = 'probe';
    probe.build(probePalette());
  }
  return probe;
}

function show(view: InspectView): void {
  toInspect();
  current = view;
  vscode.setState({ view });
  for (const c of charts) c.destroy();
  charts = renderView(app, view, palette(), (line) => vscode.postMessage({ type: 'openAt', file: view.file, line }));
  report();
}

/** Tells the host what the page now shows, read back from the DOM. */
function report(): void {
  const probed = mode === 'probe' ? probe?.report() : undefined;
  const text = (sel: string): string => (app.querySelector(sel)?.textContent ?? '').replace(/\s+/g, ' ').trim();
  vscode.postMessage({
    type: 'rendered',
    heading: text('h1'),
    banner: Array.from(app.querySelectorAll('.banner .warning, .banner .ok'), (e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()),
    summary: Array.from(app.querySelectorAll('.summary > *'), (e) => (e.textContent ?? '').trim()).join(' '),
    charts: probed?.charts ?? charts.map((c) => `${String(c.options.plugins?.title?.text ?? '')}: ${c.data.datasets.map((d) => (d.data as number[]).length).join('/')} points`),
    flaggedRows: app.querySelectorAll('table.flagged tbody tr').length,
    error: text('.error'),
    theme: themeKind(),
    ...(probed ? { probe: probed.probe } : {}),
  });
}

function progress(name: string, fraction?: number): void {
  app.innerHTML = '';
  const h = document.createElement('h1');
  h.textContent = name;
  const p = document.createElement('p');
  p.textContent = fraction === undefined ? 'Reading…' : `Reading… ${Math.round(100 * fraction)}%`;
  const bar = document.createElement('vscode-progress-bar');
  app.append(h, p, bar);
}

window.addEventListener('message', (event: MessageEvent<HostToPanel>) => {
  const m = event.data;
  switch (m.type) {
    case 'inspect/started':
      toInspect();
      current = undefined;
      progress(m.name);
      break;
    case 'inspect/progress': {
      const p = app.querySelector('p');
      if (p && !current) p.textContent = `Reading… ${Math.round(100 * m.fraction)}%`;
      break;
    }
    case 'inspect/result':
      show(m.view);
      break;
    case 'inspect/failed': {
      toInspect();
      app.innerHTML = '';
      const h = document.createElement('h1');
      h.textContent = m.name;
      const p = document.createElement('p');
      p.className = 'error';
      p.textContent = m.message;
      app.append(h, p);
      current = undefined;
      vscode.setState({});
      report();
      break;
    }
    case 'probe/event':
      toProbe().event(m.event, probePalette());
      break;
    case 'probe/load':
      toProbe().load(m.events, m.source, probePalette());
      break;
  }
});

// Re-colour the charts when the theme changes (VS Code swaps the body's classes).
new MutationObserver(() => {
  if (mode === 'probe') probe?.build(probePalette());
  else if (current) show(current);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

const saved = vscode.getState()?.probe;
if (current) show(current);
else if (saved) {
  probe = new ProbeView(app, saved, probeHost);
  toProbe();
}
vscode.postMessage({ type: 'ready' });
