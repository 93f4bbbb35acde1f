/**
 * Which files a lint run reads: walks files and folders for Python and TS/JS sources, skipping
 * dependency, build and hidden folders and the configured exclude globs, in a deterministic order
 * (arguments in the order given; inside a folder, entries sorted by code point, depth first), with
 * cancellation and progress for the editor's Scan Workspace. No `vscode` here.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { languageOf, lintText } from './engine';
import type { LintOptions, LintResult } from './types';

/** Folder names never walked into (a folder given as an argument is still walked). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', 'dist', 'build']);

/** Glob patterns relative to `base` (a pyproject's folder, or the cwd for CLI flags). */
export interface ExcludeSet {
  base: string;
  patterns: readonly string[];
}

export class LintCancelled extends Error {
  constructor() {
    super('lint cancelled');
    this.name = 'LintCancelled';
  }
}

export interface WalkOptions {
  exclude?: readonly ExcludeSet[];
  signal?: AbortSignal;
}

type Matcher = (relPath: string) => boolean;

/**
 * Compiles exclude sets. Like Ruff's and gitignore's patterns: one without a slash ("legacy",
 * "*_pb2.py") matches a file or folder name at any depth; one with a slash is matched against the
 * path relative to its base. A matched folder excludes everything under it.
 */
export function compileExcludes(sets: readonly ExcludeSet[]): (absPath: string) => boolean {
  const compiled: { base: string; match: Matcher }[] = sets.map(({ base, patterns }) => {
    const matchers = patterns.map((raw): Matcher => {
      const p = raw.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
      return picomatch(p, { dot: true, basename: !p.includes('/') });
    });
    return { base: resolve(base), match: (rel) => matchers.some((m) => m(rel)) };
  });
  return (absPath) => {
    for (const { base, match } of compiled) {
      const rel = relative(base, absPath);
      if (rel === '' || rel.startsWith('..') || resolve(base, rel) !== absPath) continue;
      const parts = rel.split(sep);
      // The path itself or any folder above it (up to the base) may be the excluded one.
      for (let i = 1; i <= parts.length; i++) if (match(parts.slice(0, i).join('/'))) return true;
    }
    return false;
  };
}

/** .py .pyi .ts .tsx .js .mjs .cjs .jsx (and .mts .cts): whatever the engine has a language for. */
export function isLintable(path: string): boolean {
  return languageOf(path) !== undefined;
}

/**
 * The files to lint under `paths` (absolute, deduplicated, first occurrence kept). A file given
 * explicitly is kept whatever its extension (the caller reports ones it cannot lint) unless
 * excluded; excludes apply to explicit files too, so the editor and the CLI agree. Throws ENOENT
 * (as fs does) for a path that does not exist, LintCancelled when the signal aborts.
 */
export async function collectFiles(paths: readonly string[], opts: WalkOptions = {}): Promise<string[]> {
  const excluded = compileExcludes(opts.exclude ?? []);
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (f: string): void => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(f);
    }
  };
  const walk = async (dir: string): Promise<void> => {
    checkCancel(opts.signal);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing to lint there, not an error of the run
    }
    // Code-point order, not locale order: the same on every machine.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // Linked files are linted; linked folders are not walked (cycles, trees outside the project).
        isFile = await stat(full).then((s) => s.isFile(), () => false);
        isDir = false;
      }
      if (isDir) {
        if (e.name.startsWith('.') || SKIPPED_DIRS.has(e.name) || excluded(full)) continue;
        await walk(full);
      } else if (isFile && isLintable(e.name) && !excluded(full)) {
        add(full);
      }
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    const s = await stat(abs);
    if (s.isDirectory()) {
      if (!excluded(abs)) await walk(abs);
    } else if (!excluded(abs)) {
      add(abs);
    }
  }
  return out;
}

export interface FileResult extends LintResult {
  /** Absolute path. */
  file: string;
  /** The file's language was not one the engine lints; it was skipped. */
  unsupported?: boolean;
  /**
   * The file could not be read, or the engine failed on it: kept apart from parseError (the
   * user's syntax) so that a broken install never reads as "no findings".
   */
  error?: string;
}

export interface LintFilesOptions {
  signal?: AbortSignal;
  /** Called after each file, with the files done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Options per file (a file's nearest pyproject may differ); default: none (every rule). */
  optionsFor?: (file: string) => LintOptions | Promise<LintOptions>;
  /** The linter to call (default `lintText` in this thread; the editor passes its worker's). */
  lint?: typeof lintText;
  /**
   * Files linted at once (default 1). Above 1 only helps with a `lint` that runs elsewhere (a
   * pool of worker threads): results keep the order of `files` either way.
   */
  concurrency?: number;
}

/**
 * Lints `files` one after another (the engine is synchronous work; a pool would not help on one
 * thread), in the given order. A file that cannot be read or linted gets an `error` on its
 * result, one that cannot be parsed a `parseError`; neither stops the run. Throws LintCancelled
 * when the signal aborts.
 */
export async function lintFiles(files: readonly string[], opts: LintFilesOptions = {}): Promise<FileResult[]> {
  const results: FileResult[] = new Array<FileResult>(files.length);
  const width = Math.max(1, Math.floor(opts.concurrency ?? 1));
  // Reads run ahead of the linting, so the thread pool reads while this thread (or the workers) lint.
  const reads = new Map<number, Promise<string>>();
  const readAhead = (from: number): void => {
    for (let j = from; j < Math.min(files.length, from + READ_AHEAD + width); j++) {
      if (reads.has(j) || !languageOf(files[j])) continue;
      const p = readFile(files[j], 'utf8');
      p.catch(() => undefined); // awaited below; a file dropped by a cancel must not warn
      reads.set(j, p);
    }
  };
  let done = 0;
  let next = 0;
  opts.onProgress?.(0, files.length);
  const one = async (i: number): Promise<void> => {
    const file = files[i];
    const language = languageOf(file);
    if (!language) {
      results[i] = { file, findings: [], unsupported: true };
    } else {
      // Outside the try: a malformed pyproject is the run's error, not this file's.
      const options = (await opts.optionsFor?.(file)) ?? {};
      try {
        readAhead(i);
        const text = await reads.get(i);
        reads.delete(i);
        readAhead(i + 1);
        results[i] = { file, ...(await (opts.lint ?? lintText)(text ?? '', language, file, options)) };
      } catch (e) {
        reads.delete(i);
        results[i] = { file, findings: [], error: e instanceof Error ? e.message : String(e) };
      }
    }
    opts.onProgress?.(++done, files.length);
  };
  // `width` lanes, each taking the next file when its last one is done.
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      checkCancel(opts.signal);
      await one(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, files.length) }, lane));
  checkCancel(opts.signal);
  return results;
}

const READ_AHEAD = 8;

function checkCancel(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LintCancelled();
}

/** For messages: a path relative to `cwd` when under it, else as is; forward slashes. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  return shown.split(sep).join('/') || basename(file);
}
