/**
 * npm run test:integration: runs the suites in test/integration/suite inside a real VS Code
 * extension host, then drives the UI like a person (command palette, notification, log) and
 * takes screenshots.
 *
 * - With VSCODE_EXECUTABLE set (a VS Code desktop binary), through @vscode/test-electron.
 * - Otherwise through code-server (VS Code 1.100.3's server build, installed by
 *   scripts/install-code-server.sh from the npm registry) and Debian's Chromium, driven by
 *   playwright-core. The test runner's exit code and output reach the page through
 *   window.codeAutomationExit / window.codeAutomationLog.
 *
 * Options: --screenshots copies the PNGs to media/screenshots/ (for the README); --no-ui skips
 * the UI phases, --no-suites the suites, --trust-only runs only the untrusted-folder phase. Everything waits for a state, never by a fixed sleep.
 * (The built-in color themes do not register in this code-server setup, so the screenshots are
 * in the web workbench's default light theme.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { LabelStats, openLabels } from '../../src/core/labels';
import type { InspectView } from '../../src/shared/panelProtocol';
import { probeViewInBrowser } from './probeView';
import { panelUnderThemes, themesDirOf } from './webviewThemes';

const ROOT = resolve(__dirname, '..', '..');
const TESTS = join(ROOT, 'dist', 'test', 'integration', 'index.js');
const WORKSPACE = join(ROOT, 'test', 'fixtures', 'workspace');
// A stand-in for the Python extension's public API (the real one is not available offline),
// installed for the suites (code-server: into its extensions folder; VS Code: a second
// development path): the probe must run with the interpreter it selects.
const PYTHON_STANDIN = join(ROOT, 'test', 'fixtures', 'python-extension-standin');
const CODE_SERVER = join(ROOT, '.vscode-test', 'code-server-4.100.3', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const SHOTS = join(ROOT, '.vscode-test', 'screenshots');
const args = new Set(process.argv.slice(2));

function log(message: string): void {
  process.stdout.write(`[integration] ${message}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** Polls `probe` every 100 ms until it returns a value, or fails after `ms`. */
async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function viaTestElectron(executable: string): Promise<number> {
  const { runTests } = await import('@vscode/test-electron');
  log(`VS Code at ${executable}`);
  return runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: [ROOT, PYTHON_STANDIN],
    extensionTestsPath: TESTS,
    launchArgs: [WORKSPACE, '--disable-extensions', '--disable-workspace-trust'],
  });
}

interface Server {
  port: number;
  process: ChildProcess;
  dir: string;
}

/**
 * code-server in a fresh user-data folder; with `trust`, workspace trust on (new folders open in
 * Restricted Mode); with `pythonStandin`, the Python extension stand-in installed.
 */
async function startCodeServer({ trust = false, pythonStandin = false } = {}): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'loss-lens-cs-'));
  if (pythonStandin) {
    // As an installed extension: its folder, and the extensions folder's manifest listing it.
    const folder = 'ms-python.python-0.0.1';
    const location = join(dir, 'extensions', folder);
    cpSync(PYTHON_STANDIN, location, { recursive: true });
    writeFileSync(
      join(dir, 'extensions', 'extensions.json'),
      JSON.stringify([{ identifier: { id: 'ms-python.python' }, version: '0.0.1', location: { $mid: 1, path: location, scheme: 'file' }, relativeLocation: folder }]),
    );
  }
  const userData = join(dir, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      ...(trust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {}),
      'git.openRepositoryInParentFolders': 'never',
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.ignoreRecommendations': true,
      'editor.minimap.enabled': false,
      'window.commandCenter': false,
      'chat.commandCenter.enabled': false,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
    }),
  );
  const child = spawn(
    process.execPath,
    [
      CODE_SERVER,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--user-data-dir', userData,
      '--extensions-dir', join(dir, 'extensions'),
      '--disable-telemetry', '--disable-update-check', ...(trust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override', '--ignore-last-opened',
    ],
    {
      detached: true, // its own process group, stopped as a whole
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(`code-server on port ${port}`, 60_000, async () => {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return r.ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return { port, process: child, dir };
}

function stop(server: Server): void {
  try {
    if (server.process.pid) process.kill(-server.process.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(server.dir, { recursive: true, force: true });
}

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

function url(port: number, folder: string, payload: [string, string][]): string {
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** A copy of the fixture workspace, outside any git repository. */
function uiWorkspace(server: Server): string {
  const folder = join(server.dir, 'workspace');
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  copyFileSync(join(WORKSPACE, 'vectors.py'), join(folder, 'vectors.py'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'labels', 'npy', 'same.csv'), join(folder, 'teacher_soft_labels.csv'));
  copyFileSync(join(ROOT, 'examples', 'train_soft_targets.py'), join(folder, 'train_soft_targets.py'));
  writeFileSync(
    join(folder, '.vscode', 'settings.json'),
    JSON.stringify({ 'git.enabled': false, 'editor.minimap.enabled': false }),
  );
  return folder;
}

const remote = (port: number, path: string): string => `vscode-remote://127.0.0.1:${port}${path}`;

/** Phase 1: the mocha suites in the extension host. Returns their exit code. */
async function runSuites(browser: Browser, server: Server): Promise<number> {
  const page = await browser.newPage();
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationLog', (_type: string, parts: unknown) => {
    process.stdout.write(`${format(...(Array.isArray(parts) ? (parts as unknown[]) : [parts]))}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
  await page.goto(
    url(server.port, WORKSPACE, [
      ['extensionDevelopmentPath', remote(server.port, ROOT)],
      ['extensionTestsPath', remote(server.port, TESTS)],
    ]),
  );
  const timeout = new Promise<number>((_, rej) => setTimeout(() => rej(new Error('the suites did not finish in 180 s')), 180_000));
  const code = await Promise.race([exited, timeout]);
  await page.close();
  return code;
}

/** Opens examples/train_soft_targets.py (Quick Open) and waits for the CodeLens above its smoothed loss. */
async function smoothingLens(page: Page): Promise<Locator> {
  await page.keyboard.press('Control+p');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type('train_soft_targets.py');
  await pick(page, 'train_soft_targets.py');
  const editor = page.locator('.monaco-editor .view-lines').first();
  await waitFor('the training script in the editor', 30_000, async () => ((await editor.textContent())?.includes('distill_step') ? true : undefined));
  const lens = page.locator('.codelens-decoration a', { hasText: 'Probe CE vs LS (α = 0.1) vs CC-LS' }).first();
  await lens.waitFor({ timeout: 30_000 });
  return lens;
}

/** Runs a command from the palette by its title, clicking the row that shows that title. */
async function palette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${command}`);
  await pick(page, command);
}

/** Clicks the quick-pick row whose label is exactly `label`. */
async function pick(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
  });
  await row.first().click();
}

async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+g');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
}

/** Phase 2: as a person would: open a file, select a vector, run the command from the palette. */
async function runUi(browser: Browser, server: Server): Promise<string[]> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url(server.port, uiWorkspace(server), [['extensionDevelopmentPath', remote(server.port, ROOT)]]));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const fileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'vectors.py' }).first();
  await fileRow.waitFor({ timeout: 60_000 });
  await fileRow.click();
  const editor = page.locator('.monaco-editor .view-lines').first();
  await editor.waitFor();
  await waitFor('the editor to show the file', 30_000, async () => ((await editor.textContent())?.includes('teacher') ? true : undefined));
  // Select the teacher's probabilities: line 5, the np.array(...) call.
  await goToLine(page, 5);
  await page.keyboard.press('End');
  for (let i = 0; i < 'np.array([0.1, 0.2, 0.7])'.length; i++) await page.keyboard.press('Shift+ArrowLeft');
  await palette(page, 'Loss Lens: Check CC Normalizer');
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Loss Lens: log C' });
  await toast.waitFor({ timeout: 30_000 });
  const message = (await toast.textContent()) ?? '';
  if (!/log C = 2\.03281663\d* \(K = 3, read as probabilities\)/.test(message)) {
    throw new Error(`unexpected notification: ${message}`);
  }
  await palette(page, 'Notifications: Clear All Notifications');
  // Now a freshly initialized policy head, with nothing selected: the current line is read.
  await goToLine(page, 12);
  await palette(page, 'Loss Lens: Check CC Normalizer');
  const nearUniform = page.locator('.notifications-toasts .notification-list-item', { hasText: 'near-uniform' });
  await nearUniform.waitFor({ timeout: 30_000 });
  // VS Code marks a toast whose fade-in animation has ended.
  await page.locator('.notification-fade-in-done', { hasText: 'near-uniform' }).waitFor({ timeout: 10_000 });
  const text = (await nearUniform.textContent()) ?? '';
  if (!/K = 6, read as logits\)\. A naive float32 CC loses 7\.2 of 7\.2 digits/.test(text)) {
    throw new Error(`unexpected notification: ${text}`);
  }
  const shots: string[] = [];
  mkdirSync(SHOTS, { recursive: true });
  const first = join(SHOTS, 'check-normalizer.png');
  await page.screenshot({ path: first });
  shots.push(first);
  // A logging accident: the error names the entry and where it is in the file.
  await palette(page, 'Notifications: Clear All Notifications');
  await goToLine(page, 15);
  await palette(page, 'Loss Lens: Check CC Normalizer');
  const error = page.locator('.notifications-toasts .notification-list-item', { hasText: 'is not a finite number' });
  await error.waitFor({ timeout: 30_000 });
  const errorText = (await error.textContent()) ?? '';
  if (!/entry 2 \('nan'\) is not a finite number \(line 15, column 13\)/.test(errorText)) {
    throw new Error(`unexpected error notification: ${errorText}`);
  }
  // The full report in the Loss Lens log.
  await palette(page, 'Notifications: Clear All Notifications');
  await palette(page, 'Loss Lens: Show Log');
  const output = page.locator('.panel .monaco-editor').filter({ hasText: 'near-uniform: yes' }).first();
  await output.waitFor({ timeout: 30_000 });
  const second = join(SHOTS, 'normalizer-log.png');
  await page.screenshot({ path: second });
  shots.push(second);
  // Inspect a CSV of soft labels from the palette; the panel opens beside the editor.
  await palette(page, 'Notifications: Clear All Notifications');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'teacher_soft_labels.csv' }).first().click();
  await waitFor('the CSV in the editor', 30_000, async () => ((await editor.textContent())?.includes('p0,p1') ? true : undefined));
  await palette(page, 'Loss Lens: Inspect Label Distribution');
  const webview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await webview.locator('h1', { hasText: 'teacher_soft_labels.csv' }).waitFor({ timeout: 60_000 });
  await webview.locator('canvas').nth(3).waitFor();
  const banner = (await webview.locator('.banner').textContent()) ?? '';
  if (!/2 rows off the simplex/.test(banner)) throw new Error(`unexpected banner: ${banner}`);
  await palette(page, 'Notifications: Clear All Notifications');
  await palette(page, 'View: Toggle Panel Visibility');
  await palette(page, 'View: Toggle Primary Side Bar Visibility');
  await page.setViewportSize({ width: 1600, height: 1000 });
  await webview.locator('canvas').nth(3).scrollIntoViewIfNeeded();
  await webview.locator('h1').scrollIntoViewIfNeeded();
  const third = join(SHOTS, 'inspect-panel.png');
  await page.screenshot({ path: third });
  const fourth = join(SHOTS, 'inspect-panel-charts.png');
  await webview.locator('section.charts').screenshot({ path: fourth });
  shots.push(fourth);
  shots.push(third);
  // A flagged row of a text file opens the file at its line.
  await webview.locator('table.flagged a', { hasText: '19' }).first().click();
  await page.locator('.statusbar-item', { hasText: 'Ln 19, Col 1' }).first().waitFor({ timeout: 30_000 });
  // Developer: Reload Window restarts the workbench the way VS Code does (it saves its state
  // first): the serializer must bring the panel back with its content.
  const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
  await palette(page, 'Developer: Reload Window');
  await reloaded; // the old page is gone: whatever shows next was revived
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await webview.locator('h1', { hasText: 'teacher_soft_labels.csv' }).waitFor({ timeout: 60_000 });
  await webview.locator('canvas').nth(3).waitFor();
  // A training probe from the palette: MLP preset, Fashion-MNIST, the default losses (CE, LS,
  // CC-LS); the panel draws it live and ends with the results table.
  await palette(page, 'Loss Lens: Probe Training');
  await pick(page, 'MLP');
  await pick(page, 'Fashion-MNIST');
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter'); // the losses, as pre-selected
  await webview.locator('.probe-status.status-running').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar-item', { hasText: 'Loss Lens: run' }).first().waitFor({ timeout: 30_000 });
  await webview.locator('.probe-status.status-done').waitFor({ timeout: 300_000 });
  await palette(page, 'Notifications: Clear All Notifications');
  const fifth = join(SHOTS, 'probe-vscode.png');
  await page.screenshot({ path: fifth });
  shots.push(fifth);
  // The lint: a training script with soft targets is underlined; the CodeLens above the smoothed
  // loss trains the probe of that α, then shows its figures; the hover explains the finding.
  const lens = await smoothingLens(page);
  await page.locator('.codelens-decoration a', { hasText: 'Probe soft-target CE vs CC' }).first().waitFor({ timeout: 30_000 });
  await lens.click();
  await page.locator('.statusbar-item', { hasText: 'Loss Lens: run' }).first().waitFor({ timeout: 30_000 });
  const figures = page.locator('.codelens-decoration a', { hasText: /^last probe: CE \d+\.\d% ECE \d\.\d{3} · LS / }).first();
  await figures.waitFor({ timeout: 300_000 });
  await palette(page, 'Notifications: Clear All Notifications');
  await page.locator('.statusbar-item', { hasText: 'Loss Lens: run' }).first().waitFor({ state: 'detached', timeout: 30_000 });
  const sixth = join(SHOTS, 'lint-editor.png');
  await page.screenshot({ path: sixth });
  shots.push(sixth);
  await page.locator('.view-lines .view-line', { hasText: 'criterion = nn.CrossEntropyLoss' }).first().locator('span', { hasText: 'label_smoothing' }).first().hover();
  const hover = page.locator('.monaco-hover', { hasText: 'Loss Lens LL101' }).first();
  await hover.waitFor({ timeout: 30_000 });
  // The hover fades in: for the screenshot, wait until it and its containers are opaque (a
  // picture, not a check: after 10 s it is taken anyway, and the log says so).
  type El = { parentElement: El | null };
  const opacity = (): Promise<number> =>
    hover.evaluate((e: El) => {
      const style = (globalThis as unknown as { getComputedStyle: (n: El) => { opacity: string } }).getComputedStyle;
      let o = 1;
      for (let n: El | null = e; n; n = n.parentElement) o *= Number(style(n).opacity);
      return o;
    });
  try {
    await waitFor('the hover to finish fading in', 10_000, async () => ((await opacity()) >= 0.99 ? true : undefined));
  } catch {
    log(`the hover's opacity is still ${(await opacity()).toFixed(2)}; screenshot taken anyway`);
  }
  const seventh = join(SHOTS, 'lint-hover.png');
  await page.screenshot({ path: seventh });
  shots.push(seventh);
  await page.close();
  return shots;
}

/**
 * Phase 3: an untrusted folder (workspace trust on, Restricted Mode). The extension activates
 * (it supports untrusted workspaces in part): the normalizer check and the lint work. Probe
 * Training is not in the palette (its enablement is isWorkspaceTrusted), and the CodeLens that
 * would start a probe refuses with the reason and a way to manage trust, starting nothing.
 */
async function runTrustUi(browser: Browser, server: Server): Promise<string[]> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url(server.port, uiWorkspace(server), [['extensionDevelopmentPath', remote(server.port, ROOT)]]));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
  const fileRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'vectors.py' }).first();
  await fileRow.waitFor({ timeout: 60_000 });
  await fileRow.click();
  const editor = page.locator('.monaco-editor .view-lines').first();
  await waitFor('the editor to show the file', 30_000, async () => ((await editor.textContent())?.includes('teacher') ? true : undefined));
  await goToLine(page, 5);
  await palette(page, 'Loss Lens: Check CC Normalizer');
  await page.locator('.notifications-toasts .notification-list-item', { hasText: 'Loss Lens: log C' }).waitFor({ timeout: 30_000 });
  await palette(page, 'Notifications: Clear All Notifications');
  // The palette offers the other Loss Lens commands, not Probe Training.
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>Loss Lens:');
  const rows = page.locator('.quick-input-list .monaco-list-row .label-name');
  await rows.filter({ hasText: 'Loss Lens: Check CC Normalizer' }).first().waitFor({ timeout: 10_000 });
  const labels = await rows.allTextContents();
  if (labels.some((l) => l.includes('Probe Training'))) throw new Error(`the palette offers Probe Training in Restricted Mode: ${labels.join(' | ')}`);
  await page.keyboard.press('Escape');
  // The lint's CodeLens is there (the lint is safe), but the probe it starts is refused.
  const lens = await smoothingLens(page);
  await lens.click();
  const refusal = page.locator('.notifications-toasts .notification-list-item', { hasText: 'need a trusted workspace' });
  await refusal.waitFor({ timeout: 30_000 });
  await page.locator('.notification-fade-in-done', { hasText: 'need a trusted workspace' }).waitFor({ timeout: 10_000 });
  const text = (await refusal.textContent()) ?? '';
  if (!text.includes('Manage Workspace Trust')) throw new Error(`the refusal offers no way to manage trust: ${text}`);
  if ((await page.locator('.statusbar-item', { hasText: /Loss Lens: (starting probe|run \d)/ }).count()) > 0) throw new Error('a probe started in an untrusted workspace');
  mkdirSync(SHOTS, { recursive: true });
  const shot = join(SHOTS, 'probe-untrusted.png');
  await page.screenshot({ path: shot });
  await page.close();
  return [shot];
}

function copyShots(shots: string[]): void {
  for (const shot of shots) {
    log(`screenshot ${shot}`);
    if (args.has('--screenshots')) {
      const dest = join(ROOT, 'media', 'screenshots');
      mkdirSync(dest, { recursive: true });
      copyFileSync(shot, join(dest, shot.split('/').pop()!));
    }
  }
}

/** The statistics of the CSV fixture, as the panel would receive them. */
async function sampleView(): Promise<InspectView> {
  const file = join(ROOT, 'test', 'fixtures', 'labels', 'npy', 'same.csv');
  const src = await openLabels(file);
  const stats = new LabelStats(src.info.K);
  for await (const c of src.chunks()) stats.add(c);
  return { file, name: 'teacher_soft_labels.csv', description: src.info.description, hasLines: true, result: stats.result() };
}

/**
 * One UI phase on its own code-server: runs it, screenshots the screen if it fails (then
 * rethrows), logs what it checked and copies its screenshots.
 */
async function uiPhase(
  browser: Browser,
  opts: { trust?: boolean },
  run: (browser: Browser, server: Server) => Promise<string[]>,
  name: string,
  checked: string,
): Promise<void> {
  const server = await startCodeServer(opts);
  try {
    const shots = await run(browser, server).catch(async (e: unknown) => {
      const pages = browser.contexts().flatMap((c) => c.pages());
      mkdirSync(SHOTS, { recursive: true });
      const shot = join(SHOTS, 'failure.png');
      if (pages.length) await pages[pages.length - 1].screenshot({ path: shot });
      log(`${name} phase failed; the screen at that moment: ${shot}`);
      throw e;
    });
    log(checked);
    copyShots(shots);
  } finally {
    stop(server);
  }
}

async function viaCodeServer(): Promise<number> {
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('scripts/install-code-server.sh failed');
  if (!existsSync(TESTS)) throw new Error(`${TESTS} is missing: run npm run build first`);
  const browser = await launchBrowser();
  try {
    const server = await startCodeServer({ pythonStandin: true });
    log(`code-server 4.100.3 (VS Code 1.100.3) on 127.0.0.1:${server.port}`);
    let code = 0;
    try {
      if (!args.has('--no-suites')) code = await runSuites(browser, server);
    } finally {
      stop(server);
    }
    if (code !== 0) return code;
    if (!args.has('--no-ui') && !args.has('--trust-only')) {
      await uiPhase(
        browser,
        {},
        runUi,
        'UI',
        'UI: Check CC Normalizer → notification, error position, log; Inspect Label Distribution → panel → a flagged row opens its line; Reload Window revives the panel with its content; Probe Training from the palette → live curves → results; the CodeLens of a flagged loss → its probe → the figures lens; the hover: ok',
      );
    }
    if (!args.has('--no-ui')) {
      await uiPhase(
        browser,
        { trust: true },
        runTrustUi,
        'trust',
        'UI, untrusted folder (Restricted Mode): Check CC Normalizer works; Probe Training is not in the palette; the CodeLens probe refuses with the reason and Manage Workspace Trust, starting nothing: ok',
      );
    }
    if (!args.has('--no-ui') && !args.has('--trust-only')) {
      const shots = await panelUnderThemes(browser, ROOT, themesDirOf(CODE_SERVER), await sampleView(), SHOTS);
      log('the panel page under Dark Modern, Light Modern and High Contrast: re-rendered on each theme change: ok');
      copyShots(shots);
      copyShots(await probeViewInBrowser(browser, ROOT, themesDirOf(CODE_SERVER), SHOTS)); // throws on a failed check
    }
    return 0;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<number> {
  const exe = process.env.VSCODE_EXECUTABLE;
  return exe ? viaTestElectron(exe) : viaCodeServer();
}

main().then(
  (code) => {
    if (code !== 0) log(`failed with exit code ${code}`);
    process.exit(code);
  },
  (e: unknown) => {
    log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
