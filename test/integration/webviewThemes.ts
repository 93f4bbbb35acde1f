/**
 * The panel's page in a real browser under VS Code's own themes. The page (dist/webview/panel.js
 * and media/panel.css, as shipped) is loaded with the CSS variables VS Code would set for the
 * Dark Modern, Light Modern and High Contrast themes (read from VS Code 1.100's theme files in
 * the code-server install), given a view through window.postMessage as the host would, and
 * switched from theme to theme: each switch must re-render the charts (the page reports the
 * theme it rendered under). Screenshots of each theme come out for the README.
 *
 * This covers what the code-server workbench cannot show here: its built-in themes do not
 * register, so the workbench itself only ever renders the default light theme.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { InspectView } from '../../src/shared/panelProtocol';

interface Theme {
  file: string;
  bodyClass: string;
  kind: string;
  defaults: Record<string, string>;
}

const THEMES: Theme[] = [
  { file: 'dark_modern.json', bodyClass: 'vscode-dark', kind: 'dark', defaults: { foreground: '#cccccc', descriptionForeground: '#ccccccb3', 'editorWidget.border': '#454545' } },
  { file: 'light_modern.json', bodyClass: 'vscode-light', kind: 'light', defaults: { foreground: '#616161', descriptionForeground: '#717171', 'editorWidget.border': '#c8c8c8' } },
  { file: 'hc_black.json', bodyClass: 'vscode-high-contrast', kind: 'high-contrast', defaults: { foreground: '#ffffff', descriptionForeground: '#ffffff', 'editorWidget.border': '#6fc3df' } },
];

/** A theme's colours, following its "include" chain, as --vscode-* CSS variables. */
function themeVariables(themesDir: string, theme: Theme): Record<string, string> {
  const colors: Record<string, string> = { ...theme.defaults };
  const load = (file: string): void => {
    const json = JSON.parse(readFileSync(join(themesDir, file), 'utf8')) as { include?: string; colors?: Record<string, string> };
    if (json.include) load(json.include.replace(/^\.\//, ''));
    Object.assign(colors, json.colors ?? {});
  };
  load(theme.file);
  const vars: Record<string, string> = { '--vscode-font-family': 'system-ui, sans-serif', '--vscode-font-size': '13px' };
  for (const [key, value] of Object.entries(colors)) vars[`--vscode-${key.replace(/\./g, '-')}`] = value;
  return vars;
}

export async function panelUnderThemes(browser: Browser, root: string, themesDir: string, view: InspectView, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const html = join(outDir, 'panel-harness.html');
  const script = pathToFileURL(join(root, 'dist', 'webview', 'panel.js')).toString();
  const style = pathToFileURL(join(root, 'media', 'panel.css')).toString();
  writeFileSync(
    html,
    `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="${style}"></head>
<body><main id="app"></main>
<script>
  window.__posted = [];
  window.__state = undefined;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; },
  });
</script>
<script src="${script}"></script></body></html>`,
  );
  const page = await browser.newPage({ viewport: { width: 1100, height: 1250 } });
  await page.goto(pathToFileURL(html).toString());
  const shots: string[] = [];
  let first = true;
  for (const theme of THEMES) {
    const vars = themeVariables(themesDir, theme);
    const before = await page.evaluate('window.__posted.length');
    // (These run in the page; strings, since this file is type-checked without the DOM library.)
    await page.evaluate(`(() => {
      const vars = ${JSON.stringify(vars)};
      for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      document.body.style.background = vars['--vscode-editor-background'] || '';
      document.body.className = ${JSON.stringify(theme.bodyClass)}; // the page re-renders on this change
    })()`);
    if (first) {
      await page.evaluate(`window.postMessage(${JSON.stringify({ type: 'inspect/result', view })}, '*')`);
      first = false;
    }
    const rendered = await page.waitForFunction(
      `window.__posted.slice(${String(before)}).find((m) => m.type === 'rendered' && m.theme === ${JSON.stringify(theme.kind)}) || false`,
      undefined,
      { timeout: 15_000 },
    );
    const report = (await rendered.jsonValue()) as { charts: string[]; heading: string };
    if (report.charts.length !== 4 || report.heading !== view.name) throw new Error(`${theme.kind}: rendered ${JSON.stringify(report)}`);
    const shot = join(outDir, `inspect-panel-${theme.kind}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    shots.push(shot);
  }
  await page.close();
  return shots;
}

export const themesDirOf = (codeServerEntry: string): string =>
  join(dirname(codeServerEntry), '..', '..', 'lib', 'vscode', 'extensions', 'theme-defaults', 'themes');
