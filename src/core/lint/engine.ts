/**
 * The lint engine: parse once with tree-sitter, run the language's rules over the calls, then apply
 * suppression comments and select/ignore. Runs under plain Node (CLI, worker, extension host).
 */
import type { Node, Tree } from 'web-tree-sitter';
import type { RawFinding } from './finding';
import { parserFor } from './parser';
import { PyScope } from './pythonScope';
import { PyTargets } from './pythonTargets';
import { ll105, ll111, ll112, ll113, ll121 } from './rulesOther';
import { ll131Findings } from './rulesTfjs';
import { ll101, ll102, ll103, ll104 } from './rulesTorch';
import type { Finding, LintLanguage, LintOptions, LintResult } from './types';

const PY_RULES = [ll101, ll102, ll103, ll104, ll105, ll111, ll112, ll113, ll121];

const EXTENSIONS: Record<string, LintLanguage> = {
  py: 'python',
  pyi: 'python',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
};

export function languageOf(path: string): LintLanguage | undefined {
  const m = /\.([A-Za-z]+)$/.exec(path);
  return m ? EXTENSIONS[m[1].toLowerCase()] : undefined;
}

/** Above this share of the (non-blank) text inside ERROR nodes, the tree says little about the file. */
const MAX_ERROR_SHARE = 0.25;

interface Span {
  start: number;
  end: number;
}

/** The error spans of a tree, or a reason the whole file is unusable. */
function syntaxErrors(tree: Tree, text: string): { spans: Span[]; fatal?: string } {
  const root = tree.rootNode;
  if (!root.hasError) return { spans: [] };
  const spans: Span[] = [];
  let first: Node | undefined;
  const visit = (n: Node): void => {
    if (n.isError || n.isMissing) {
      spans.push({ start: n.startIndex, end: n.endIndex });
      first ??= n;
      return;
    }
    if (!n.hasError) return;
    for (const c of n.children) if (c) visit(c);
  };
  visit(root);
  const covered = spans.reduce((s, sp) => s + text.slice(sp.start, sp.end).replace(/\s+/g, '').length, 0);
  const total = Math.max(1, text.replace(/\s+/g, '').length);
  const where = first ? ` (first at line ${first.startPosition.row + 1})` : '';
  if (root.isError || covered / total > MAX_ERROR_SHARE) {
    return { spans, fatal: `syntax errors cover ${Math.round((100 * covered) / total)}% of the file${where}` };
  }
  return { spans };
}

/** Suppressions by 0-based row: 'all' for a bare `# noqa` / `// loss-lens-ignore`, else the listed codes. */
function suppressions(root: Node): Map<number, 'all' | Set<string>> {
  const out = new Map<number, 'all' | Set<string>>();
  const codes = '([A-Z]+[0-9]+(?:[\\s,]+[A-Z]+[0-9]+)*)';
  const noqa = new RegExp(`#\\s*[Nn][Oo][Qq][Aa](?::\\s*${codes})?`);
  const ignore = new RegExp(`loss-lens-ignore(?:[:\\s]+${codes})?`);
  for (const c of root.descendantsOfType('comment')) {
    if (!c) continue;
    const m = noqa.exec(c.text) ?? ignore.exec(c.text);
    if (!m) continue;
    const row = c.startPosition.row;
    const prev = out.get(row);
    if (!m[1] || prev === 'all') {
      out.set(row, 'all');
      continue;
    }
    const set = prev ?? new Set<string>();
    for (const code of m[1].split(/[\s,]+/)) set.add(code);
    out.set(row, set);
  }
  return out;
}

function matches(code: string, patterns: string[]): boolean {
  return patterns.some((p) => p.trim() !== '' && code.startsWith(p.trim().toUpperCase()));
}

/**
 * Every rule keys on a callee whose last name part is one of these (cross_entropy,
 * CrossEntropyLoss, CategoricalCrossentropy, log_softmax, kl_div, KLDivergence, KLD, Mixup,
 * softmaxCrossEntropy, …), and a resolved name is built from the source's own identifiers, so a file
 * without any of them cannot produce a finding: the rules (name resolution and tree walks, most of
 * the lint time) are skipped for it. It is still parsed, so syntax errors are reported as before.
 */
const RELEVANT: Record<'python' | 'ts', RegExp> = {
  python: /softmax|cross_?entropy|kl_?div|kld|mixup/i,
  ts: /softmaxCrossEntropy/,
};

export function mayHaveFindings(text: string, language: LintLanguage): boolean {
  return RELEVANT[language === 'python' ? 'python' : 'ts'].test(text);
}

/**
 * Whether a call can matter to any rule, from its callee's text alone: `x.view(...)`,
 * `torch.zeros(...)` and `print(...)` cannot; a callee named like a loss, or a name that some
 * assignment or import binds (an alias, an instance of a loss), or anything else may.
 */
function mayMatter(call: Node, scope: PyScope): boolean {
  const fn = call.childForFieldName('function');
  if (!fn) return false;
  if (fn.type === 'identifier') return RELEVANT.python.test(fn.text) || scope.mayResolve(fn.text);
  if (fn.type === 'attribute') {
    const text = fn.text;
    const last = text.slice(text.lastIndexOf('.') + 1).trim();
    return RELEVANT.python.test(last) || /^self\s*\.\s*\w+$/.test(text);
  }
  return true;
}

function pythonFindings(root: Node): RawFinding[] {
  const scope = new PyScope(root);
  const t = new PyTargets(scope);
  const raw: RawFinding[] = [];
  for (const call of scope.calls) if (mayMatter(call, scope)) for (const rule of PY_RULES) rule(call, t, raw);
  return raw;
}

export async function lintText(text: string, language: LintLanguage, file: string, opts: LintOptions = {}): Promise<LintResult> {
  // Grammar loading failures are the installation's fault, not the file's: they throw.
  const parser = await parserFor(language);
  if (text.includes('\0')) return { findings: [], parseError: 'binary content (NUL bytes)' };
  let tree: Tree | null;
  try {
    tree = parser.parse(text);
  } catch (e) {
    return { findings: [], parseError: `the parser failed: ${(e as Error).message}` };
  }
  if (!tree) return { findings: [], parseError: 'the parser returned no tree' };
  try {
    const errors = syntaxErrors(tree, text);
    if (errors.fatal) return { findings: [], parseError: errors.fatal };
    const root = tree.rootNode;
    if (!mayHaveFindings(text, language)) return { findings: [] };
    const raw = language === 'python' ? pythonFindings(root) : ll131Findings(root);
    if (raw.length === 0) return { findings: [] };
    const sup = suppressions(root);
    const select = opts.select?.length ? opts.select : undefined;
    const ignore = opts.ignore ?? [];
    const seen = new Set<string>();
    const findings: Finding[] = [];
    for (const r of raw) {
      const n = r.node;
      // A finding inside or around a syntax error may rest on a misread call: drop it.
      if (errors.spans.some((s) => s.start < n.endIndex && n.startIndex < s.end)) continue;
      if (select && !matches(r.code, select)) continue;
      if (matches(r.code, ignore)) continue;
      const rows = [n, ...(r.related ?? [])].filter((x): x is Node => !!x).map((x) => x.startPosition.row);
      if (rows.some((row) => { const s = sup.get(row); return s === 'all' || !!s?.has(r.code); })) continue;
      const key = `${r.code}:${n.startIndex}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const f: Finding = {
        file,
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        endLine: n.endPosition.row + 1,
        endColumn: n.endPosition.column + 1,
        code: r.code,
        message: r.message,
        framework: r.framework,
      };
      if (r.literalTarget) f.literalTarget = r.literalTarget;
      if (r.smoothing !== undefined) f.smoothing = r.smoothing;
      findings.push(f);
    }
    findings.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
    return { findings };
  } finally {
    tree.delete();
  }
}
