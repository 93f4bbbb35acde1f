/**
 * The lint settings for one file: the editor's `lossLens.lint.*` settings over the nearest
 * pyproject.toml's `[tool.loss-lens]` table, by the core's merge rule (src/core/lint/config.ts).
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import {
  LintConfigError,
  SEVERITIES,
  isValidSelector,
  loadLintConfig,
  mergeLintSettings,
  type LintConfig,
  type LintSettings,
  type LoadedConfig,
} from '../../core/lint/config';
import { compileExcludes } from '../../core/lint/files';
import { RULE_CODES, type RuleCode } from '../../core/lint/types';
import type { Ctx } from '../context';

export interface FileSettings extends LintSettings {
  /** The file matches an exclude pattern: no diagnostics for it. */
  excluded: boolean;
}

export class LintSettingsCache {
  /** Nearest pyproject per folder; cleared when any pyproject.toml changes. */
  private readonly pyprojects = new Map<string, Promise<LoadedConfig | undefined>>();
  /** Problems already reported, so a broken pyproject or setting is not announced on every keystroke. */
  private readonly reported = new Set<string>();

  constructor(private readonly ctx: Ctx) {}

  clear(): void {
    this.pyprojects.clear();
    this.reported.clear();
  }

  /** Settings for a document (`path` undefined: untitled, settings only, no excludes). */
  async forFile(path: string | undefined, uri?: vscode.Uri): Promise<FileSettings> {
    const scope = uri ?? (path ? vscode.Uri.file(path) : undefined);
    const overrides = this.validated(this.ctx.config.lintOverrides(scope));
    const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : undefined;
    // Setting excludes are relative to the file's workspace folder (else its own folder).
    const base = folder?.uri.fsPath ?? (path ? dirname(path) : process.cwd());
    const loaded = path && this.ctx.config.lintUsePyproject(scope) ? await this.pyproject(dirname(path)) : undefined;
    const merged = mergeLintSettings(loaded, overrides, base);
    const excluded = path !== undefined && compileExcludes(merged.exclude)(path);
    return { ...merged, excluded };
  }

  private pyproject(dir: string): Promise<LoadedConfig | undefined> {
    let p = this.pyprojects.get(dir);
    if (!p) {
      p = loadLintConfig(dir).catch((e: unknown) => {
        // A malformed table: lint with the editor's settings alone, and say where the error is.
        if (!(e instanceof LintConfigError)) throw e;
        this.once(e.message, () => {
          this.ctx.log.warn(`Lint: ${e.message}; using the editor's settings only`);
          void vscode.window.showWarningMessage(`Loss Lens: ${e.message}`);
        });
        return undefined;
      });
      this.pyprojects.set(dir, p);
    }
    return p;
  }

  /** Drops selectors and severities no rule matches (a typo must never silence a rule), with a log line. */
  private validated(o: LintConfig): LintConfig {
    const keep = (key: string, list: string[] | undefined): string[] | undefined => {
      if (!list) return undefined;
      const bad = list.filter((s) => typeof s !== 'string' || !isValidSelector(s.trim()));
      if (bad.length) this.once(`${key}:${bad.join()}`, () => this.ctx.log.warn(`Lint: lossLens.lint.${key}: not rule codes or prefixes, ignored: ${bad.join(', ')}`));
      return list.filter((s) => !bad.includes(s)).map((s) => s.trim().toUpperCase());
    };
    const out: LintConfig = { ...o };
    const select = keep('select', o.select);
    const ignore = keep('ignore', o.ignore);
    if (select) out.select = select;
    if (ignore) out.ignore = ignore;
    if (o.severity) {
      const sev: Partial<Record<RuleCode, (typeof SEVERITIES)[number]>> = {};
      for (const [code, level] of Object.entries(o.severity)) {
        const up = code.toUpperCase() as RuleCode;
        if (RULE_CODES.includes(up) && SEVERITIES.includes(level)) sev[up] = level;
        else this.once(`severity:${code}:${String(level)}`, () => this.ctx.log.warn(`Lint: lossLens.lint.severity: '${code}': '${String(level)}' ignored`));
      }
      out.severity = sev;
    }
    return out;
  }

  private once(key: string, report: () => void): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    report();
  }
}
