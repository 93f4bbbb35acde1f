/**
 * The panel's probe view in a real browser (Debian's Chromium through playwright-core), loaded
 * as shipped (dist/webview/panel.js, media/panel.css) under the webview's own CSP, with a fake
 * acquireVsCodeApi and VS Code's theme variables, like webviewThemes.ts. It streams a realistic
 * probe (3 losses × 2 seeds, 200 steps, eval every 20, one run diverging), then checks the page's
 * Rendered report and DOM: live, replayed (probe/load), restored from state, cancelled, failed,
 * decimated. Screenshots: media/screenshots/probe-{dark,light,high-contrast}.png.
 *
 *   npm run build && node --import tsx test/integration/probeView.ts [--out DIR]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Rendered } from '../../src/shared/panelProtocol';
import { LOSS_TABLE, type EvalPoint, type LossKind, type ProbeEvent, type RunInfo } from '../../src/shared/probeProtocol';
import { themesDirOf } from './webviewThemes';

/**
 * A probe as a worker would report it: runs interleaved, 10 steps a message, an eval every
 * steps/10, progress after each round. With the defaults, label smoothing seed 2 diverges
 * (NaN at step 131) and the naive float32 normalizer fails early on the CC-LS runs.
 */
function probeEvents({ steps = 200, losses = ['ce', 'ls', 'cc-ls'] as LossKind[], seeds = [1, 2] } = {}): ProbeEvent[] {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const evalEvery = steps / 10;
  const config = { model: { kind: 'preset', preset: 'mlp', options: { hidden: 128, batchNorm: true, dropout: 0.1, weightDecay: 0 } }, data: { kind: 'fashion-mnist', train: 2000, test: 500 }, losses, seeds, steps, batchSize: 64, learningRate: 0.001, optimizer: 'adam', evalEvery, evalRows: 500, alpha: 0.1, temperature: 2, backend: 'auto', device: 'auto' } as const;
  const runs: RunInfo[] = losses.flatMap((loss) => seeds.map((s) => ({ runId: `${loss}-${s}`, loss, seed: s, backend: 'tfjs-wasm' as const, device: 'CPU (wasm, 1 thread)', model: 'MLP 784 → 128 → 10 (batch norm, dropout 0.1)', data: 'Fashion-MNIST (Debian), random subset', classes: 10, trainRows: 2000, testRows: 500 })));
  const out: ProbeEvent[] = [{ type: 'probe/started', probeId: 'p1', time: '2025-06-01T12:00:00.000Z', config, backend: 'tfjs-wasm', device: 'CPU (wasm, 1 thread)', notes: ['weights could not be read: fresh initialization'], runs: runs.length }];
  for (const run of runs) out.push({ type: 'run/started', run });
  const divergesAt = steps === 200 ? new Map([['ls-2', 131]]) : new Map<string, number>();
  const lastEval = new Map<string, EvalPoint>();
  const firstFail = new Map<string, number>();
  const trainLoss = (r: RunInfo, t: number): number => {
    const [start, end] = r.loss === 'cc-ls' || r.loss === 'cc' ? [0.1, -0.9] : [2.3, r.loss === 'ls' ? 0.75 : 0.45];
    const blowUp = divergesAt.has(r.runId) && t > 100 ? Math.exp((t - 100) / 8) : 1;
    return t >= (divergesAt.get(r.runId) ?? Infinity) ? NaN : (end + (start - end) * Math.exp(-t / (steps / 5)) + 0.15 * rand() * Math.exp(-t / steps)) * blowUp;
  };
  for (let t0 = 1; t0 <= steps; t0 += 10) {
    for (const r of runs) {
      const stop = divergesAt.get(r.runId) ?? steps;
      if (t0 > stop) continue;
      const ts = Array.from({ length: Math.min(10, stop - t0 + 1) }, (_, i) => t0 + i);
      out.push({ type: 'run/steps', runId: r.runId, steps: ts, losses: ts.map((t) => trainLoss(r, t)) });
      const t = ts.find((x) => x % evalEvery === 0 && x < (divergesAt.get(r.runId) ?? Infinity));
      if (t === undefined) continue;
      const nearUniform = Math.exp(-t / (r.loss === 'cc-ls' ? steps / 3 : steps / 5));
      const point: EvalPoint = { step: t, loss: trainLoss(r, t) + 0.05, accuracy: 0.1 + 0.72 * (1 - Math.exp(-t / (steps / 4))) + 0.02 * rand(), ece: 0.02 + 0.1 * Math.exp(-t / (steps / 3)), nearUniform, digitsLostMedian: 0.5 + 6.5 * nearUniform, digitsLostMax: Math.min(7.22, 1.7 + 6.5 * nearUniform), naiveFailure: (r.loss === 'cc-ls' && t <= 2 * evalEvery) || (r.loss === 'ls' && t === evalEvery), nonFinite: false };
      if (point.naiveFailure && !firstFail.has(r.runId)) firstFail.set(r.runId, t);
      lastEval.set(r.runId, point);
      out.push({ type: 'run/eval', runId: r.runId, point });
    }
    out.push({ type: 'probe/progress', fraction: (t0 + 9) / steps, message: `step ${t0 + 9} of ${steps}` });
  }
  out.push({ type: 'probe/log', message: 'all runs finished' });
  for (const r of runs) {
    const stop = divergesAt.get(r.runId);
    const summary = { steps: stop ?? steps, finalTrainLoss: stop ? null : trainLoss(r, steps), lastEval: lastEval.get(r.runId) ?? null, firstNaiveFailureStep: firstFail.get(r.runId) ?? null, firstNonFiniteStep: stop ?? null, stepsPerSecond: 140 };
    out.push(stop ? { type: 'run/finished', runId: r.runId, status: 'diverged', message: `training loss is not finite at step ${stop}`, summary } : { type: 'run/finished', runId: r.runId, status: 'done', summary });
  }
  const row = (loss: LossKind, acc: number, ece: number, evalLoss: number, nu: number, fail: number | null) => ({ loss, runs: seeds.length, accuracyMean: acc, accuracyStd: 0.012, eceMean: ece, eceStd: 0.004, evalLossMean: evalLoss, nearUniformMean: nu, firstNaiveFailureStep: fail, stepsPerSecond: 142 });
  const table = losses.map((l) => (l === 'cc-ls' ? row(l, 0.803, 0.021, -0.8812, 0.035, 20) : row(l, 0.81, 0.03, l === 'ce' ? 0.52 : 0.8, 0.01, l === 'ls' ? 20 : null)));
  out.push({ type: 'probe/finished', status: 'done', table });
  return out;
}
const RUN_NAMES = ['ce', 'ls', 'cc-ls'].flatMap((l) => [1, 2].map((s) => `${LOSS_TABLE[l as LossKind].label} · seed ${s}`));

// VS Code's built-in defaults for colours the theme files leave out (charts.*, editorWarning).
const THEMES = [
  { file: 'dark_modern.json', bodyClass: 'vscode-dark', kind: 'dark', defaults: { foreground: '#cccccc', descriptionForeground: '#ccccccb3', 'editorWidget.border': '#454545', 'editor.background': '#1f1f1f', 'editorWarning.foreground': '#cca700', 'charts.blue': '#3794ff', 'charts.red': '#f14c4c', 'charts.green': '#89d185', 'charts.yellow': '#cca700', 'charts.purple': '#b180d7' } },
  { file: 'light_modern.json', bodyClass: 'vscode-light', kind: 'light', defaults: { foreground: '#616161', descriptionForeground: '#717171', 'editorWidget.border': '#c8c8c8', 'editor.background': '#ffffff', 'editorWarning.foreground': '#bf8803', 'charts.blue': '#1a85ff', 'charts.red': '#e51400', 'charts.green': '#388a34', 'charts.yellow': '#bf8803', 'charts.purple': '#652d90' } },
  { file: 'hc_black.json', bodyClass: 'vscode-high-contrast', kind: 'high-contrast', defaults: { foreground: '#ffffff', descriptionForeground: '#ffffff', 'editorWidget.border': '#6fc3df', 'editor.background': '#000000', 'editorWarning.foreground': '#fff000', 'charts.blue': '#3794ff', 'charts.red': '#f48771', 'charts.green': '#89d185', 'charts.yellow': '#fff000', 'charts.purple': '#b180d7' } },
];

/** A theme's colours as --vscode-* variables (its "include" chain followed); defaults alone without the theme files. */
function themeVariables(themesDir: string, theme: (typeof THEMES)[number]): Record<string, string> {
  const colors: Record<string, string> = { ...theme.defaults };
  const load = (file: string): void => {
    const json = JSON.parse(readFileSync(join(themesDir, file), 'utf8')) as { include?: string; colors?: Record<string, string> };
    if (json.include) load(json.include.replace(/^\.\//, ''));
    Object.assign(colors, json.colors ?? {});
  };
  if (existsSync(join(themesDir, theme.file))) load(theme.file);
  const vars: Record<string, string> = { '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px' };
  for (const [key, value] of Object.entries(colors)) vars[`--vscode-${key.replace(/\./g, '-')}`] = value;
  return vars;
}

type Report = Rendered & { probe: NonNullable<Rendered['probe']> };

function check(ok: boolean, what: string, got?: unknown): void {
  if (!ok) throw new Error(`probe view: ${what}${got === undefined ? '' : `; got ${JSON.stringify(got)}`}`);
}

class Harness {
  private constructor(readonly page: Page) {}

  /** A page with the panel's CSP (nonce'd script and style, file: for the bundle). */
  static async open(browser: Browser, root: string, state?: unknown): Promise<Harness> {
    const html = join(mkdtempSync(join(tmpdir(), 'loss-lens-probe-')), 'probe-harness.html');
    const script = pathToFileURL(join(root, 'dist', 'webview', 'panel.js')).toString();
    const style = pathToFileURL(join(root, 'media', 'panel.css')).toString();
    const csp = "default-src 'none'; img-src file: data:; font-src file:; style-src file: 'nonce-t3st'; script-src 'nonce-t3st' file:";
    writeFileSync(
      html,
      `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${style}" nonce="t3st"></head><body><main id="app"></main>
<script nonce="t3st">
  window.__posted = []; window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  window.__state = ${JSON.stringify(state ?? null)} ?? undefined;
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });
</script>
<script nonce="t3st" src="${script}"></script></body></html>`,
    );
    const page = await browser.newPage({ viewport: { width: 1100, height: 1500 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(html).toString());
    const h = new Harness(page);
    h.errors = errors;
    return h;
  }
  errors: string[] = [];

  async theme(themesDir: string, t: (typeof THEMES)[number]): Promise<void> {
    const vars = themeVariables(themesDir, t);
    await this.page.evaluate(`(() => {
      const vars = ${JSON.stringify(vars)};
      for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      document.body.style.background = vars['--vscode-editor-background'] || '';
      document.body.className = ${JSON.stringify(t.bodyClass)};
    })()`);
  }

  async post(messages: unknown[]): Promise<void> {
    await this.page.evaluate(`for (const m of ${JSON.stringify(messages)}) window.postMessage(m, '*')`);
  }

  posted(): Promise<{ type: string }[]> {
    return this.page.evaluate<{ type: string }[]>('window.__posted');
  }

  /** Waits for a report that satisfies `test` (a JS expression over `m`), and returns it. */
  async report(test: string, what: string): Promise<Report> {
    // Polled from here: waitForFunction's polling evaluates strings in the page, which the CSP forbids.
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      const found = await this.page.evaluate<Report | undefined>(`window.__posted.filter((m) => m.type === 'rendered').reverse().find((m) => ${test})`);
      if (found) return found;
    }
    const last = await this.page.evaluate(`window.__posted.filter((m) => m.type === 'rendered').at(-1)`);
    throw new Error(`probe view: no report with ${what}; last: ${JSON.stringify(last)}`);
  }

  async done(): Promise<void> {
    const violations = await this.page.evaluate<string[]>('window.__violations');
    check(violations.length === 0 && this.errors.length === 0, 'no CSP violations or page errors', { violations, errors: this.errors });
    await this.page.close();
  }
}

/** Line counts per chart, from "title: a/b/c points". */
const lines = (r: Rendered): number[] => r.charts.map((c) => c.replace(/.*: /, '').split('/').length);
const sameDrawing = (a: Report, b: Report): boolean => JSON.stringify([a.probe, a.charts, a.banner]) === JSON.stringify([b.probe, b.charts, b.banner]);

export async function probeViewInBrowser(browser: Browser, root: string, themesDir: string, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const events = probeEvents();
  const shots: string[] = [];

  // Live: the events arrive in 20 bursts, as a worker would send them.
  const live = await Harness.open(browser, root);
  await live.theme(themesDir, THEMES[0]);
  const bursts: ProbeEvent[][] = [[]];
  for (const e of events) {
    bursts[bursts.length - 1].push(e);
    if (e.type === 'probe/progress') bursts.push([]);
  }
  const finishedAt = events.findIndex((e) => e.type === 'probe/finished');
  for (const [i, burst] of bursts.entries()) {
    await live.post(burst.filter((e) => e.type !== 'probe/finished').map((event) => ({ type: 'probe/event', event })));
    if (i === 9) {
      const mid = await live.report(`m.probe && m.probe.status === 'running' && m.probe.runs === 6 && m.probe.points > 0`, 'a running probe');
      check((await live.page.locator('.probe-cancel').isVisible()) && (await live.page.locator('vscode-progress-bar').isVisible()), 'Cancel and a progress bar while running');
      check(/TensorFlow\.js, WebAssembly \(tfjs-wasm\)/.test(mid.probe.backend) && mid.probe.device === 'CPU (wasm, 1 thread)', 'backend and device in words', mid.probe);
      shots.push(join(outDir, 'probe-running-dark.png'));
      await live.page.screenshot({ path: shots[0], fullPage: true });
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  await live.post([{ type: 'probe/event', event: events[finishedAt] }]);
  const final = await live.report(`m.probe && m.probe.status === 'done'`, 'a finished probe');
  // 5 runs × 200 steps + the diverged run's 130 finite steps (its 131st is NaN: a gap).
  check(final.probe.runs === 6 && final.probe.points === 1130 && final.probe.evals === 5 * 10 + 6, 'runs, points, evals', final.probe);
  check(JSON.stringify(lines(final)) === JSON.stringify([12, 6, 6, 6, 6, 12]), 'lines per chart: raw + EMA per run; median + max per run', final.charts);
  check(final.probe.table.length === 4 && final.probe.table[0].join('|') === 'loss|runs|accuracy|ECE|held-out loss|near-uniform|first naive failure|steps/s', 'table header', final.probe.table);
  check(final.probe.table[3].join('|') === 'CC-LS|2|0.803 ± 0.012|0.021 ± 0.004|-0.8812|3.5%|step 20|142.0', 'CC-LS row', final.probe.table[3]);
  check(final.banner.join() === 'weights could not be read: fresh initialization', 'notes as a banner', final.banner);
  const names = await live.page.locator('.probe-runs .run-name').allTextContents();
  check(JSON.stringify(names) === JSON.stringify(RUN_NAMES), 'run names', names);
  const diverged = await live.page.locator('.probe-runs li.run-diverged .run-state').allTextContents();
  check(diverged.length === 1 && diverged[0].startsWith('diverged: training loss is not finite at step 131'), 'the diverged run with its message', diverged);
  const rendered = (await live.posted()).filter((m) => m.type === 'rendered').length;
  check(rendered < events.length / 3, `at most ~10 renders a second, not one per message (${rendered} for ${events.length} events)`);
  for (const t of THEMES) {
    if (t !== THEMES[0]) {
      await live.theme(themesDir, t);
      await live.report(`m.theme === ${JSON.stringify(t.kind)} && m.probe && m.probe.status === 'done'`, `a re-render under ${t.kind}`);
    }
    const shot = join(outDir, `probe-${t.kind}.png`);
    await live.page.screenshot({ path: shot, fullPage: true });
    shots.push(shot);
  }
  const state = await live.page.evaluate('window.__state');
  await live.done();

  // A saved run replayed at once draws the same; the heading names the file.
  const replay = await Harness.open(browser, root);
  await replay.theme(themesDir, THEMES[2]);
  await replay.post([{ type: 'probe/load', events, source: 'probe-run.jsonl' }]);
  const replayed = await replay.report(`m.probe && m.probe.status === 'done'`, 'a replayed probe');
  check(sameDrawing(replayed, final) && replayed.heading === 'Training probe: probe-run.jsonl', 'probe/load renders as live', replayed);
  await replay.page.locator('.probe-open').click();
  check((await replay.posted()).some((m) => m.type === 'probe/open'), 'Open saved run… posts probe/open');
  await replay.done();

  // Restored from the webview state alone, with the chart settings kept.
  const restored = await Harness.open(browser, root, state);
  await restored.theme(themesDir, THEMES[2]);
  const back = await restored.report(`m.probe && m.theme === 'high-contrast'`, 'a restored probe');
  check(sameDrawing(back, final), 'state restore renders as live', back);
  await restored.page.locator('.probe-logy').click();
  await restored.report(`m.charts[0].startsWith('training loss (log y)') && m.charts[1].startsWith('held-out loss (log y)')`, 'log y on the loss charts');
  await restored.page.locator('.probe-controls input[type=range]').fill('0');
  const settings = await restored.page.evaluate<{ logY: boolean; smoothing: number }>('window.__state.probe.settings');
  check(settings.logY && settings.smoothing === 0 && (await restored.page.locator('.probe-smoothing').textContent()) === '0.00', 'log y and smoothing kept in the state', settings);
  await restored.done();

  // Cancel while running; then an inspection takes the page, and a probe event takes it back.
  const cancel = await Harness.open(browser, root);
  await cancel.post(events.slice(0, finishedAt / 2).map((event) => ({ type: 'probe/event', event })));
  await cancel.report(`m.probe && m.probe.points > 0`, 'a running probe');
  await cancel.page.locator('.probe-cancel').click();
  check((await cancel.posted()).some((m) => m.type === 'probe/cancel'), 'Cancel posts probe/cancel');
  await cancel.post([{ type: 'probe/event', event: { type: 'probe/finished', status: 'cancelled', table: [] } }]);
  const cancelled = await cancel.report(`m.probe && m.probe.status === 'cancelled'`, 'a cancelled probe');
  check(cancelled.probe.points > 0 && !(await cancel.page.locator('.probe-cancel').isVisible()), 'partial curves stay; no Cancel', cancelled.probe);
  await cancel.post([{ type: 'inspect/failed', file: '/x.npy', name: 'x.npy', message: 'not a label file' }]);
  await cancel.report(`!m.probe && m.heading === 'x.npy'`, 'the inspection view');
  await cancel.post([{ type: 'probe/event', event: { type: 'probe/log', message: 'still here' } }]);
  await cancel.report(`m.probe && m.probe.status === 'cancelled' && m.probe.points === ${cancelled.probe.points}`, 'the probe view back, whole');
  await cancel.done();

  // A failed probe keeps its partial curves and shows the message; a long run is decimated.
  const failed = await Harness.open(browser, root);
  const failure = { type: 'probe/finished', status: 'failed', message: 'the probe worker exited with code 1', table: [] };
  await failed.post([{ type: 'probe/load', events: [...events.slice(0, finishedAt / 2), failure] }]);
  const f = await failed.report(`m.probe && m.probe.status === 'failed'`, 'a failed probe');
  check(f.error === failure.message && f.probe.points > 0, 'failure message, partial curves', f);
  const long = probeEvents({ steps: 20_000, losses: ['cc'], seeds: [7] });
  await failed.post([{ type: 'probe/load', events: long }]);
  const d = await failed.report(`m.probe && m.probe.runs === 1 && m.probe.status === 'done'`, 'a long run');
  check(d.probe.points > 2500 && d.probe.points <= 5000, 'decimated to at most 5000 points per run', d.probe);
  const size = (await failed.page.evaluate<string>('JSON.stringify(window.__state)')).length;
  check(size < 1_000_000, `bounded state (${size} characters)`);
  await failed.done();
  return shots;
}

if (process.argv[1] && resolve(process.argv[1]) === __filename) {
  const root = resolve(__dirname, '..', '..');
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? resolve(process.argv[at + 1]) : join(root, 'media', 'screenshots');
  const codeServer = join(root, '.vscode-test', 'code-server-4.100.3', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  void (async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const shots = await probeViewInBrowser(browser, root, themesDirOf(codeServer), out);
      process.stdout.write(`[probe view] live, replay, restore, cancel, failure, decimation: ok\n${shots.map((s) => `screenshot ${s}`).join('\n')}\n`);
    } catch (e) {
      process.stdout.write(`[probe view] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    } finally {
      await browser.close();
    }
  })();
}
