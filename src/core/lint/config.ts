/**
 * The `[tool.loss-lens]` table of a pyproject.toml, as Ruff and TorchFix users expect:
 *
 *   [tool.loss-lens]
 *   select = ["LL1"]            # codes or prefixes; default: every rule
 *   extend-select = ["LL131"]   # added to select
 *   ignore = ["LL105"]          # dropped after select
 *   extend-ignore = ["LL113"]   # added to ignore
 *   exclude = ["legacy", "**\/*_pb2.py"]   # globs, relative to the pyproject's folder
 *   severity = { LL101 = "hint" }          # editor only: error | warning | information | hint
 *
 * Merge rule (mergeLintSettings): a CLI flag or an editor setting that is given replaces the
 * pyproject's value for that key, extend-* lists included (they belong to the key they extend);
 * the caller's own extend-* lists add to whatever select/ignore results. Severity merges per
 * code, the caller's code winning. No `vscode` here.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { TomlError, parse } from 'smol-toml';
import { RULE_CODES, type LintOptions, type RuleCode } from './types';

export type Severity = 'error' | 'warning' | 'information' | 'hint';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];

export interface LintConfig {
  select?: string[];
  extendSelect?: string[];
  ignore?: string[];
  extendIgnore?: string[];
  /** Glob patterns, relative to `root` (the pyproject's folder, or the cwd for CLI flags). */
  exclude?: string[];
  severity?: Partial<Record<RuleCode, Severity>>;
}

export interface LoadedConfig {
  /** The pyproject.toml read. */
  file: string;
  /** Its folder: `exclude` patterns are relative to it. */
  root: string;
  config: LintConfig;
}

export class LintConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
    this.name = 'LintConfigError';
  }
}

const KEYS = ['select', 'extend-select', 'ignore', 'extend-ignore', 'exclude', 'severity'] as const;

/** A selector is a code or a prefix of one ("LL1", "LL10", "LL101"); case-insensitive. */
export function isValidSelector(s: string): boolean {
  const up = s.toUpperCase();
  return up.length >= 2 && RULE_CODES.some((c) => c.startsWith(up));
}

/** Upper-cases selectors and fails on ones no rule matches, so a typo never silences a rule. */
export function normalizeSelectors(list: readonly string[], fail: (bad: string) => never): string[] {
  return list.map((s) => {
    const t = s.trim();
    if (!isValidSelector(t)) fail(t);
    return t.toUpperCase();
  });
}

/**
 * Parses the `[tool.loss-lens]` table of a pyproject.toml's text; undefined when there is none.
 * Throws LintConfigError with the file and line on malformed TOML or a malformed table.
 */
export function parseLintConfig(text: string, file: string): LintConfig | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    if (e instanceof TomlError) throw new LintConfigError(file, e.line, `invalid TOML: ${firstLine(e.message)}`);
    throw e;
  }
  const tool = doc.tool;
  if (!isTable(tool) || !('loss-lens' in tool)) return undefined;
  const table = tool['loss-lens'];
  const fail = (keyPath: string[], detail: string): never => {
    throw new LintConfigError(file, lineOf(text, keyPath), `[tool.loss-lens] ${detail}`);
  };
  if (!isTable(table)) fail([], 'must be a table');
  const t = table as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (!(KEYS as readonly string[]).includes(key)) fail([key], `unknown key '${key}' (known: ${KEYS.join(', ')})`);
  }
  const strings = (key: string, selectors: boolean): string[] | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail([key], `${key}: expected an array of strings`);
    const list = v as string[];
    if (!selectors) return list;
    return normalizeSelectors(list, (bad) =>
      fail([key], `${key}: '${bad}' is not a rule code or prefix (codes: ${RULE_CODES.join(', ')})`),
    );
  };
  const config: LintConfig = {};
  const set = <K extends keyof LintConfig>(k: K, v: LintConfig[K] | undefined): void => {
    if (v !== undefined) config[k] = v;
  };
  set('select', strings('select', true));
  set('extendSelect', strings('extend-select', true));
  set('ignore', strings('ignore', true));
  set('extendIgnore', strings('extend-ignore', true));
  set('exclude', strings('exclude', false));
  if (t.severity !== undefined) {
    if (!isTable(t.severity)) fail(['severity'], 'severity: expected a table of code = "error" | "warning" | "information" | "hint"');
    const sev: Partial<Record<RuleCode, Severity>> = {};
    for (const [code, level] of Object.entries(t.severity as Record<string, unknown>)) {
      const up = code.toUpperCase();
      if (!(RULE_CODES as readonly string[]).includes(up)) fail(['severity', code], `severity: '${code}' is not a rule code`);
      if (!SEVERITIES.includes(level as Severity)) {
        fail(['severity', code], `severity.${code}: expected one of ${SEVERITIES.map((s) => `"${s}"`).join(', ')}`);
      }
      sev[up as RuleCode] = level as Severity;
    }
    config.severity = sev;
  }
  return config;
}

/**
 * The nearest pyproject.toml with a `[tool.loss-lens]` table, from `path` (a file: its folder; a
 * folder: itself) upward, as Ruff picks the nearest one with a `[tool.ruff]` table. A pyproject
 * without the table is passed over; a malformed one is an error, never silently skipped.
 */
export async function loadLintConfig(path: string): Promise<LoadedConfig | undefined> {
  let dir = resolve(path);
  if (await isFile(dir)) dir = dirname(dir);
  for (;;) {
    const file = join(dir, 'pyproject.toml');
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      const config = parseLintConfig(text, file);
      if (config) return { file, root: dir, config };
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export interface LintSettings {
  options: LintOptions;
  /** Each exclude pattern list with the folder its patterns are relative to. */
  exclude: { base: string; patterns: string[] }[];
  severity: Partial<Record<RuleCode, Severity>>;
}

/**
 * Applies the caller's overrides (CLI flags or editor settings, `base` for their excludes) over a
 * pyproject's config: a key the caller gives replaces the pyproject's key; see the file header.
 */
export function mergeLintSettings(loaded: LoadedConfig | undefined, overrides: LintConfig, base: string): LintSettings {
  const c = loaded?.config ?? {};
  const select = overrides.select ?? (c.select ? [...c.select, ...(c.extendSelect ?? [])] : undefined);
  const ignoreBase = overrides.ignore ?? [...(c.ignore ?? []), ...(c.extendIgnore ?? [])];
  const options: LintOptions = {};
  // Without a select every rule is on, so an extend-select has nothing to add to.
  if (select) options.select = [...select, ...(overrides.extendSelect ?? [])];
  const ignore = [...ignoreBase, ...(overrides.extendIgnore ?? [])];
  if (ignore.length) options.ignore = ignore;
  const exclude =
    overrides.exclude !== undefined
      ? [{ base, patterns: overrides.exclude }]
      : loaded && c.exclude
        ? [{ base: loaded.root, patterns: c.exclude }]
        : [];
  return { options, exclude, severity: { ...c.severity, ...overrides.severity } };
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/^Invalid TOML document: /, '');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * The 1-based line of a key of the table, for error messages: smol-toml keeps no positions, so
 * the text is scanned for `[tool.loss-lens]` / `[tool.loss-lens.severity]` headers and the key's
 * line within them. Falls back to the table's header, or undefined (dotted keys elsewhere).
 */
export function lineOf(text: string, keyPath: readonly string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let table = '';
  let header: number | undefined;
  let found: number | undefined;
  const keyRe = (k: string): RegExp => new RegExp(`^\\s*(?:"${escape(k)}"|'${escape(k)}'|${escape(k)})\\s*(=|\\.)`);
  for (let i = 0; i < lines.length && found === undefined; i++) {
    const h = /^\s*\[\s*([^[\]]+?)\s*\]\s*(#.*)?$/.exec(lines[i]);
    if (h) {
      table = h[1].split('.').map((p) => p.trim().replace(/^["']|["']$/g, '')).join('.');
      if (table === 'tool.loss-lens' || (table === 'tool.loss-lens.severity' && header === undefined)) header = i + 1;
      continue;
    }
    if (table === 'tool.loss-lens') {
      if (keyPath.length === 0) continue;
      const m = keyRe(keyPath[0]).exec(lines[i]);
      if (!m) continue;
      // `severity = { LL101 = "x" }` or `severity.LL101 = "x"`: a code's own line when it is there.
      if (keyPath.length > 1 && m[1] === '.' && !lines[i].includes(keyPath[1])) continue;
      found = i + 1;
    } else if (table === 'tool.loss-lens.severity' && keyPath[0] === 'severity') {
      if (keyPath.length === 1 || keyRe(keyPath[1]).test(lines[i])) found = i + 1;
    }
  }
  return found ?? header;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
