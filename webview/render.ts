/** DOM and charts for one inspected file. Text goes in through textContent, never as HTML. */
import { Chart } from 'chart.js';
import type { InspectView } from '../src/shared/panelProtocol';
import type { Histogram } from '../src/core/labels/stats';

export interface Palette {
  bar: string;
  warn: string;
  line: string;
  text: string;
  grid: string;
  font: string;
}

const MAX_TABLE_ROWS = 500;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');

function banner(view: InspectView): HTMLElement {
  const { counts, rows, sumTolerance } = view.result;
  const box = el('section', 'banner');
  const items: [number, string][] = [
    [counts.sumOff, `off the simplex (|Σp − 1| > ${sumTolerance})`],
    [counts.negative, 'with a negative entry'],
    [counts.nonFinite, 'with NaN or ±∞'],
    [counts.nearUniform, 'near-uniform (a naive float32 CC normalizer keeps < 2 digits)'],
  ];
  for (const [n, what] of items) {
    if (n === 0) continue;
    const w = el('div', 'warning');
    const badge = el('vscode-badge', undefined, String(n));
    w.append(badge, el('span', undefined, ` ${n === 1 ? 'row' : 'rows'} ${what}`));
    box.append(w);
  }
  if (counts.valid === rows) box.prepend(el('div', 'ok', `All ${rows} rows are on the simplex.`));
  return box;
}

function summary(view: InspectView): HTMLElement {
  const r = view.result;
  const m = r.means;
  const dl = el('dl', 'summary');
  const add = (k: string, v: string): void => {
    dl.append(el('dt', undefined, k), el('dd', undefined, v));
  };
  add('rows', String(r.rows));
  add('classes K', String(r.classes));
  add('valid rows', `${r.counts.valid} (${r.rows ? ((100 * r.counts.valid) / r.rows).toFixed(1) : '0'}%)`);
  add('mean entropy', `${fmt(m.entropy)} nats (${fmt(m.normalizedEntropy, 3)} of log K)`);
  add('mean max probability', fmt(m.maxProb));
  add('mean TV to uniform', fmt(m.tvToUniform));
  add('mean KL to uniform', `${fmt(m.klToUniform)} nats`);
  add('mean distance to a vertex', fmt(m.distanceToVertex));
  add('naive float32 digits lost', `${fmt(m.digitsLost, 2)} of 7.22 (mean)`);
  return dl;
}

function histogramChart(canvas: HTMLCanvasElement, h: Histogram, title: string, p: Palette): Chart {
  const labels = h.counts.map((_, i) => `${h.edges[i].toFixed(2)}–${h.edges[i + 1].toFixed(2)}`);
  return new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: 'rows', data: h.counts, backgroundColor: p.bar, borderWidth: 0 }] },
    options: chartOptions(title, p, false),
  });
}

function classChart(canvas: HTMLCanvasElement, view: InspectView, p: Palette): Chart {
  const r = view.result;
  const labels = r.classCounts.map((_, k) => String(k));
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'rows by argmax', data: r.classCounts, backgroundColor: p.bar, yAxisID: 'y' },
        { type: 'line', label: 'mean probability', data: r.classMeans, borderColor: p.line, backgroundColor: p.line, yAxisID: 'y2', pointRadius: 2 },
      ],
    },
    options: {
      ...chartOptions('classes: argmax counts and mean probability', p, true),
      scales: {
        x: axis(p),
        y: { ...axis(p), beginAtZero: true },
        y2: { ...axis(p), position: 'right', min: 0, grid: { drawOnChartArea: false } },
      },
    },
  });
}

function axis(p: Palette) {
  return { ticks: { color: p.text, font: { family: p.font } }, grid: { color: p.grid } };
}

function chartOptions(title: string, p: Palette, legend: boolean) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      title: { display: true, text: title, color: p.text, font: { family: p.font } },
      legend: { display: legend, labels: { color: p.text, font: { family: p.font } } },
    },
    scales: { x: axis(p), y: { ...axis(p), beginAtZero: true } },
  };
}

function flaggedTable(view: InspectView, openAt: (line: number) => void): HTMLElement {
  const r = view.result;
  const section = el('section', 'flagged-section');
  const shown = Math.min(r.flagged.length, MAX_TABLE_ROWS);
  section.append(el('h2', undefined, `Flagged rows: ${r.flaggedTotal}${r.flaggedTotal > shown ? ` (first ${shown} shown)` : ''}`));
  if (shown === 0) return section;
  const table = el('table', 'flagged');
  const head = el('tr');
  for (const h of ['row', ...(view.hasLines ? ['line'] : []), 'why']) head.append(el('th', undefined, h));
  table.append(el('thead'));
  table.tHead?.append(head);
  const body = el('tbody');
  for (const f of r.flagged.slice(0, shown)) {
    const tr = el('tr');
    tr.append(el('td', 'num', String(f.row)));
    if (view.hasLines) {
      const td = el('td', 'num');
      if (f.line !== undefined) {
        const a = el('a', undefined, String(f.line));
        a.href = '#';
        a.title = `Open ${view.name} at line ${f.line}`;
        const line = f.line;
        a.addEventListener('click', (e) => {
          e.preventDefault();
          openAt(line);
        });
        td.append(a);
      }
      tr.append(td);
    }
    tr.append(el('td', undefined, f.reasons.join('; ')));
    body.append(tr);
  }
  table.append(body);
  section.append(table);
  return section;
}

/** Replaces the page's content with the view; returns the charts (to destroy on re-render). */
export function renderView(app: HTMLElement, view: InspectView, p: Palette, openAt: (line: number) => void): Chart[] {
  app.innerHTML = '';
  app.append(el('h1', undefined, view.name), el('p', 'description', view.description), banner(view), summary(view));
  const grid = el('section', 'charts');
  const canvases = [0, 1, 2, 3].map(() => {
    const box = el('div', 'chart');
    const c = el('canvas');
    box.append(c);
    grid.append(box);
    return c;
  });
  app.append(grid, flaggedTable(view, openAt));
  const h = view.result.histograms;
  return [
    histogramChart(canvases[0], h.entropy, 'entropy / log K', p),
    histogramChart(canvases[1], h.maxProb, 'max probability', p),
    histogramChart(canvases[2], h.tvToUniform, 'total-variation distance to uniform', p),
    classChart(canvases[3], view, p),
  ];
}
