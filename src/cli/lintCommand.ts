import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { loadLintConfig, mergeLintSettings, normalizeSelectors, type LintConfig, type Severity } from '../core/lint/config';
import { collectFiles, compileExcludes, displayPath, lintFiles, type FileResult } from '../core/lint/files';
import { RULES } from '../core/lint/rules';
import { RULE_CODES, type Finding, type LintOptions, type RuleCode } from '../core/lint/types';
import { LintWorkerPool } from '../extension/lint/workerClient';
import { UsageError, checkKnown, flag, stringOption, type ParsedArgs } from './args';

export const LINT_HELP = `loss-lens lint PATH...: cross-entropy on soft targets in Python and TS/JS code

  PATH...              files and folders; folders are walked for .py .pyi .ts .tsx .js .mjs
                       .cjs .jsx, skipping node_modules, .git, venv/.venv, __pycache__, dist,
                       build and hidden folders
  --format=FORMAT      text (default): file:line:col: CODE message, then a summary;
                       json: an array of {file, line, column, code, message} (1-based);
                       sarif: SARIF 2.1.0 for code-scanning tools
  --select=CODES       codes or prefixes to report, comma-separated (LL101,LL11)
  --ignore=CODES       codes or prefixes to drop, after --select
  --extend-select=..   added to the selection; --extend-ignore=.. added to the ignored
  --exclude=GLOB       skip matching files and folders (relative to the current folder);
                       repeat for more
  --no-config          do not read [tool.loss-lens] from the nearest pyproject.toml
  --jobs=N             files linted in parallel, in N worker threads (default: the CPUs, up
                       to 8, when there are 50 files or more; else 1, in this thread)

  A flag that is given replaces the pyproject's value for that key (select, ignore, exclude).
  Unparseable files are reported (stderr; SARIF: toolExecutionNotifications) and skipped.

Exit 0 with no findings, 1 with findings, 2 on an error (bad option, path not found, a
malformed [tool.loss-lens] table, a file that could not be read).`;

const KNOWN = ['format', 'select', 'ignore', 'extend-select', 'extend-ignore', 'exclude', 'config', 'jobs', 'help'];
const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

/** Where the README documents each rule: `#ll101` and so on. */
export const README_URL = 'https://github.com/loss-lens/loss-lens/blob/main/README.md';
export const ruleHelpUri = (code: RuleCode): string => `${README_URL}#${code.toLowerCase()}`;

interface Problem {
  file: string;
  message: string;
  /** Not the file's syntax: it could not be read, or the engine failed (exit 2). */
  fatal: boolean;
}

export async function runLint(args: ParsedArgs, out: NodeJS.WritableStream, argv: readonly string[] = []): Promise<number> {
  checkKnown(args, KNOWN);
  if (flag(args, 'help', false)) {
    out.write(`${LINT_HELP}\n`);
    return 0;
  }
  const format = (stringOption(args, 'format') ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  if (args.positional.length === 0) throw new UsageError('give at least one file or folder: loss-lens lint PATH...');
  for (const p of args.positional) if (!existsSync(p)) throw new UsageError(`path not found: ${p}`);

  const cwd = process.cwd();
  const overrides: LintConfig = {};
  for (const [key, field] of [
    ['select', 'select'],
    ['ignore', 'ignore'],
    ['extend-select', 'extendSelect'],
    ['extend-ignore', 'extendIgnore'],
  ] as const) {
    const v = stringOption(args, key);
    if (v === undefined) continue;
    const list = v.split(',').filter((s) => s.trim() !== '');
    overrides[field] = normalizeSelectors(list, (bad) => {
      throw new UsageError(`--${key}: '${bad}' is not a rule code or prefix (codes: ${RULE_CODES.join(', ')})`);
    });
  }
  // parseArgs keeps the last of a repeated option; --exclude may be repeated, so read argv.
  const excludes = repeated(argv, 'exclude');
  if (excludes.length) overrides.exclude = excludes;
  const useConfig = flag(args, 'config', true);

  // Each file takes its settings from the nearest pyproject above it (as Ruff does, and as the
  // editor does): a PATH's own pyproject prunes the walk, then each file's folder is looked up
  // (cached per folder) and its excludes applied.
  const optionsOf = new Map<string, { options: LintOptions; severity: Partial<Record<RuleCode, Severity>> }>();
  const byDir = new Map<string, Promise<{ settings: ReturnType<typeof mergeLintSettings>; excluded: (f: string) => boolean }>>();
  const settingsFor = (dir: string) => {
    let s = byDir.get(dir);
    if (!s) {
      s = (async () => {
        const settings = mergeLintSettings(useConfig ? await loadLintConfig(dir) : undefined, overrides, cwd);
        return { settings, excluded: compileExcludes(settings.exclude) };
      })();
      byDir.set(dir, s);
    }
    return s;
  };
  const files: string[] = [];
  for (const p of args.positional) {
    const root = mergeLintSettings(useConfig ? await loadLintConfig(p) : undefined, overrides, cwd);
    for (const f of await collectFiles([p], { exclude: root.exclude })) {
      if (optionsOf.has(f)) continue;
      const own = await settingsFor(dirname(f));
      if (own.excluded(f)) continue;
      optionsOf.set(f, own.settings);
      files.push(f);
    }
  }

  const tty = process.stderr.isTTY && files.length > 50;
  // Worker threads cost a start-up each (the wasm runtime and grammars): only for many files.
  const jobs = jobsOption(args) ?? (files.length >= 50 ? Math.min(8, availableParallelism()) : 1);
  const pool = jobs > 1 ? new LintWorkerPool(join(__dirname, 'lintWorker.js'), jobs) : undefined;
  let results: FileResult[];
  try {
    results = await lintFiles(files, {
      optionsFor: (f) => optionsOf.get(f)?.options ?? {},
      onProgress: tty ? (done, total) => process.stderr.write(`\r${done}/${total} `) : undefined,
      lint: pool?.lint,
      concurrency: jobs,
    });
  } finally {
    pool?.dispose();
  }
  if (tty) process.stderr.write('\r              \r');

  const problems: Problem[] = [];
  const findings: { file: string; finding: Finding; severity?: Severity }[] = [];
  for (const r of results) {
    const file = displayPath(r.file, cwd);
    const problem = problemOf(r);
    if (problem) problems.push({ file, message: problem, fatal: r.error !== undefined });
    const sorted = [...r.findings].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
    for (const finding of sorted) findings.push({ file, finding, severity: optionsOf.get(r.file)?.severity[finding.code] });
  }

  if (format !== 'sarif') for (const p of problems) process.stderr.write(`loss-lens: ${p.file}: ${p.message}, skipped\n`);
  if (format === 'text') {
    for (const { file, finding: f } of findings) out.write(`${file}:${f.line}:${f.column}: ${f.code} ${f.message}\n`);
    out.write(`${summary(findings.map((x) => x.file), findings.map((x) => x.finding.code), files.length, problems.length)}\n`);
  } else if (format === 'json') {
    const rows = findings.map(({ file, finding: f }) => ({ file, line: f.line, column: f.column, code: f.code, message: f.message }));
    out.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    out.write(`${JSON.stringify(toSarif(findings, problems, cwd), null, 2)}\n`);
  }
  // Findings are still printed above; a file that could not be read or linted is an error.
  if (problems.some((p) => p.fatal)) return 2;
  return findings.length ? 1 : 0;
}

function jobsOption(args: ParsedArgs): number | undefined {
  const v = stringOption(args, 'jobs');
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, got '${v}'`);
  return n;
}

function problemOf(r: FileResult): string | undefined {
  if (r.error !== undefined) return `could not be linted (${r.error})`;
  if (r.unsupported) return 'not a Python, TypeScript or JavaScript file';
  if (r.parseError !== undefined) return `could not be parsed (${r.parseError})`;
  return undefined;
}

function repeated(argv: readonly string[], key: string): string[] {
  const values: string[] = [];
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith(`--${key}=`)) values.push(a.slice(key.length + 3));
  }
  return values;
}

function summary(files: string[], codes: string[], checked: number, skipped: number): string {
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  const skippedNote = skipped ? `; ${n(skipped, 'file')} skipped` : '';
  if (!codes.length) return `No findings in ${n(checked, 'file')}${skippedNote}.`;
  const byCode = new Map<string, number>();
  for (const c of codes) byCode.set(c, (byCode.get(c) ?? 0) + 1);
  const perCode = [...byCode].sort(([a], [b]) => a.localeCompare(b)).map(([c, k]) => `${c} ×${k}`).join(', ');
  return `Found ${n(codes.length, 'finding')} (${perCode}) in ${new Set(files).size} of ${n(checked, 'file')}${skippedNote}.`;
}

const SARIF_LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = {
  error: 'error',
  warning: 'warning',
  information: 'note',
  hint: 'note',
};

/** A file under the cwd is relative to %SRCROOT% (the cwd); one outside it keeps its file URI. */
function artifact(file: string, cwd: string): Sarif.ArtifactLocation {
  if (file.startsWith('/') || /^[A-Za-z]:/.test(file)) return { uri: pathToFileURL(resolve(cwd, file)).href };
  return { uri: file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function toSarif(findings: { file: string; finding: Finding; severity?: Severity }[], problems: Problem[], cwd: string): Sarif.Log {
  const rules: Sarif.ReportingDescriptor[] = RULE_CODES.map((code) => ({
    id: code,
    shortDescription: { text: RULES[code].summary },
    fullDescription: { text: RULES[code].explanation, markdown: RULES[code].explanation },
    helpUri: ruleHelpUri(code),
    defaultConfiguration: { level: 'warning' },
    properties: { framework: RULES[code].framework },
  }));
  const results: Sarif.Result[] = findings.map(({ file, finding: f, severity }) => ({
    ruleId: f.code,
    ruleIndex: RULE_CODES.indexOf(f.code),
    level: severity ? SARIF_LEVEL[severity] : 'warning',
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: artifact(file, cwd),
          region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
        },
      },
    ],
  }));
  const notifications: Sarif.Notification[] = problems.map((p) => ({
    level: p.fatal ? 'error' : 'warning',
    message: { text: `${p.file}: ${p.message}; skipped` },
    locations: [{ physicalLocation: { artifactLocation: artifact(p.file, cwd) } }],
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Loss Lens',
            informationUri: README_URL,
            version: process.env.LOSS_LENS_VERSION ?? 'dev',
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd + '/').href } },
        columnKind: 'utf16CodeUnits',
        invocations: [{ executionSuccessful: !problems.some((p) => p.fatal), toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
}
