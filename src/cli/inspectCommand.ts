import { LabelStats, openLabels, type Histogram, type LabelStatsResult, type ReadOptions } from '../core/labels';
import { UsageError, checkKnown, flag, stringOption, type ParsedArgs } from './args';

export const INSPECT_HELP = `loss-lens inspect FILE: statistics of a file of soft labels

  FILE               .npy, .npz, .csv, .tsv, .jsonl, .ndjson, .json or .parquet; one row
                     per example
  --array=NAME       .npz: the array (default: the only one, else the first 2-D one)
  --columns=SPEC     .csv/.tsv/.parquet: columns by name or 1-based index, ranges allowed
                     ("2-11", "p0-p9")
  --field=NAME       .jsonl/.json/.parquet: the field or list column holding each vector
                     (default: detected)
  --classes=K        1-D integer labels: the number of classes (default: largest + 1)
  --sum-tolerance=X  |Σp − 1| above X makes a row invalid (default 1e-3)
  --no-naive         skip the naive CC normalizer's digits lost per row (and so the
                     near-uniform flag): faster on large files
  --json             one JSON object: rows, classes, counts {valid, nonFinite, negative,
                     sumOff, nearUniform}, histograms, classCounts, classMeans, means,
                     flagged [{row (0-based), line, reasons}], flaggedTotal

Exit 0 when every row is valid, 1 when some are not, 2 when the file cannot be read.`;

const KNOWN = ['array', 'columns', 'field', 'classes', 'sum-tolerance', 'naive', 'json', 'help'];

function positiveNumber(args: ParsedArgs, key: string): number | undefined {
  const v = stringOption(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${key} must be a non-negative number, got '${v}'`);
  return n;
}

export async function runInspect(args: ParsedArgs, out: NodeJS.WritableStream): Promise<number> {
  checkKnown(args, KNOWN);
  if (flag(args, 'help', false)) {
    out.write(`${INSPECT_HELP}\n`);
    return 0;
  }
  const [file, ...extra] = args.positional;
  if (!file || extra.length) throw new UsageError('give exactly one file: loss-lens inspect FILE');
  const classes = positiveNumber(args, 'classes');
  if (classes !== undefined && !Number.isInteger(classes)) throw new UsageError(`--classes must be an integer, got ${classes}`);
  const opts: ReadOptions = {
    array: stringOption(args, 'array'),
    columns: stringOption(args, 'columns'),
    field: stringOption(args, 'field'),
    classes,
  };
  if (process.stderr.isTTY) {
    opts.onProgress = (done, total) => process.stderr.write(`\r${((100 * done) / total).toFixed(0)}% `);
  }
  const source = await openLabels(file, opts);
  const stats = new LabelStats(source.info.K, {
    sumTolerance: positiveNumber(args, 'sum-tolerance'),
    skipDigitsLost: !flag(args, 'naive', true),
  });
  for await (const chunk of source.chunks()) stats.add(chunk);
  if (process.stderr.isTTY) process.stderr.write('\r     \r');
  const result = stats.result();
  if (flag(args, 'json', false)) {
    out.write(`${JSON.stringify({ file, format: source.info.format, description: source.info.description, ...finite(result) })}\n`);
  } else {
    out.write(`${formatInspect(file, source.info.description, result)}\n`);
  }
  return result.counts.valid === result.rows ? 0 : 1;
}

/** JSON has no NaN: means of zero valid rows become null. */
function finite(r: LabelStatsResult): Record<string, unknown> {
  const means = Object.fromEntries(Object.entries(r.means).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));
  return { ...r, means, classMeans: r.classMeans.map((v) => (Number.isFinite(v) ? v : null)) };
}

function bars(h: Histogram, label: string): string[] {
  const max = Math.max(1, ...h.counts);
  return [
    `${label}:`,
    ...h.counts.map((c, i) => `  ${h.edges[i].toFixed(2)}–${h.edges[i + 1].toFixed(2)} ${'█'.repeat(Math.round((30 * c) / max)).padEnd(30)} ${c}`),
  ];
}

export function formatInspect(file: string, description: string, r: LabelStatsResult): string {
  const c = r.counts;
  const pct = (n: number): string => (r.rows ? `${((100 * n) / r.rows).toFixed(1)}%` : '0%');
  const lines = [
    `${file}: ${r.rows} rows × ${r.classes} classes (${description})`,
    `valid ${c.valid} (${pct(c.valid)}); non-finite ${c.nonFinite}; negative ${c.negative}; sum off by more than ${r.sumTolerance} ${c.sumOff}; near-uniform ${c.nearUniform} (${pct(c.nearUniform)})`,
    `means over valid rows: entropy ${r.means.entropy.toFixed(4)} nats (${r.means.normalizedEntropy.toFixed(3)} of log K), max probability ${r.means.maxProb.toFixed(4)}, TV to uniform ${r.means.tvToUniform.toFixed(4)}, KL to uniform ${r.means.klToUniform.toFixed(4)}, distance to the nearest vertex ${r.means.distanceToVertex.toFixed(4)}, naive float32 digits lost ${Number.isFinite(r.means.digitsLost) ? r.means.digitsLost.toFixed(2) : 'n/a'}`,
    ...bars(r.histograms.entropy, 'entropy / log K'),
    ...bars(r.histograms.maxProb, 'max probability'),
    ...bars(r.histograms.tvToUniform, 'TV distance to uniform'),
    `argmax counts: ${r.classCounts.join(' ')}`,
  ];
  if (r.flaggedTotal) {
    lines.push(`flagged rows (${r.flaggedTotal}${r.flaggedTotal > 20 ? ', first 20' : ''}):`);
    for (const f of r.flagged.slice(0, 20)) lines.push(`  row ${f.row}${f.line !== undefined ? ` (line ${f.line})` : ''}: ${f.reasons.join('; ')}`);
  }
  return lines.join('\n');
}
