import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import {
  CcInputError,
  CcWorkspace,
  analyzeEta,
  formatReport,
  inferInterpretation,
  lambdaToEta,
  logExpUnchecked,
  naiveLogC,
  parseVectorLiteral,
  reportToJson,
  checkEta,
  ccMean,
  type NormalizerReport,
} from '../core';
import { UsageError, checkKnown, flag, stringOption, type ParsedArgs } from './args';

export const NORMALIZER_HELP = `loss-lens normalizer: the continuous-categorical normalizer C(λ), exactly

  --eta=a,b,c        log-λ (logits); any real numbers, K ≥ 2
  --lambda=p,q,r     probabilities λ > 0, normalized or not
  --file=F           one vector per line (JSON array or comma-separated); one JSON line
                     out per vector, streaming ("-" reads standard input)
  --format=jsonl|table
                     with --file: JSON lines (default), or a readable table with one row per
                     vector (log C, the naive formula's error and digits lost, near-uniform)
  --input=eta|lambda|infer
                     how --file lines are read (default eta; infer: probabilities when
                     non-negative and summing to 1 within 1e-6, else logits)
  --json             one JSON object: {"K","logC","mean","naive":{"float64":{"logC",
                     "digitsLost","errorNats"},"float32":{...}},"nearUniform"}
  --method=naive     the naive formula only, in float64: {"K","logC","method":"naive"}
  --no-mean          skip the mean μ
  --no-naive         skip the naive comparison (its O(K²) cost)

Exit 0 on success, 2 on bad input (the message names the value and its position).`;

const KNOWN = ['eta', 'lambda', 'file', 'input', 'format', 'json', 'method', 'mean', 'naive', 'help'];

interface Settings {
  method: 'exact' | 'naive';
  withMean: boolean;
  withNaive: boolean;
  json: boolean;
}

function parseNumbers(text: string, what: string): number[] {
  try {
    const lit = parseVectorLiteral(text);
    if (lit.rows.length !== 1) throw new UsageError(`${what} must be one vector, got ${lit.rows.length} rows`);
    return lit.rows[0];
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new CcInputError(`${what}: ${(e as Error).message}`);
  }
}

/** The output object for one η under the settings. */
function evaluate(eta: ArrayLike<number>, s: Settings, ws: CcWorkspace): unknown {
  checkEta(eta);
  if (s.method === 'naive') {
    const v = naiveLogC(eta, 'float64');
    return { K: eta.length, logC: Number.isFinite(v) ? v : null, method: 'naive' };
  }
  if (!s.withNaive) {
    if (!s.withMean) return { K: eta.length, logC: -logExpUnchecked(eta, eta.length, ws) };
    const { logC, mean } = ccMean(eta, new Float64Array(eta.length), ws);
    return { K: eta.length, logC, mean: Array.from(mean) };
  }
  return reportToJson(analyzeEta(eta, { withMean: s.withMean, ws }));
}

export async function runNormalizer(args: ParsedArgs, out: NodeJS.WritableStream): Promise<number> {
  checkKnown(args, KNOWN);
  if (flag(args, 'help', false)) {
    out.write(`${NORMALIZER_HELP}\n`);
    return 0;
  }
  const method = stringOption(args, 'method') ?? 'exact';
  if (method !== 'exact' && method !== 'naive') throw new UsageError(`--method must be exact or naive, got '${method}'`);
  const s: Settings = {
    method,
    withMean: flag(args, 'mean', true),
    withNaive: flag(args, 'naive', true),
    json: flag(args, 'json', false),
  };
  const sources = ['eta', 'lambda', 'file'].filter((k) => args.options.has(k));
  if (sources.length !== 1) throw new UsageError('give exactly one of --eta=..., --lambda=... or --file=...');
  const ws = new CcWorkspace();

  const file = stringOption(args, 'file');
  if (file !== undefined) {
    const format = stringOption(args, 'format') ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'table') throw new UsageError(`--format must be jsonl or table, got '${format}'`);
    return streamFile(file, stringOption(args, 'input') ?? 'eta', s, ws, out, format === 'table');
  }

  const etaText = stringOption(args, 'eta');
  const eta = etaText !== undefined
    ? Float64Array.from(parseNumbers(etaText, '--eta'))
    : lambdaToEta(parseNumbers(stringOption(args, 'lambda') ?? '', '--lambda'));
  if (s.json || s.method === 'naive' || !s.withNaive) {
    out.write(`${JSON.stringify(evaluate(eta, s, ws))}\n`);
  } else {
    const heading = etaText !== undefined ? 'input: η = log λ (logits)' : 'input: probabilities λ';
    out.write(`${formatReport(analyzeEta(eta, { withMean: s.withMean, ws }), heading)}\n`);
  }
  return 0;
}

async function streamFile(
  file: string,
  input: string,
  s: Settings,
  ws: CcWorkspace,
  out: NodeJS.WritableStream,
  table: boolean,
): Promise<number> {
  if (table && (s.method === 'naive' || !s.withNaive)) throw new UsageError('--format=table shows the naive comparison; drop --method=naive and --no-naive');
  if (input !== 'eta' && input !== 'lambda' && input !== 'infer') {
    throw new UsageError(`--input must be eta, lambda or infer, got '${input}'`);
  }
  const stream = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  if (table) out.write(`${TABLE_HEADER}\n`);
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
      let result: unknown;
      try {
        const values = parseNumbers(line, 'vector');
        const asLambda = input === 'lambda' || (input === 'infer' && inferInterpretation(values) === 'probabilities');
        const eta = asLambda ? lambdaToEta(values) : Float64Array.from(values);
        result = table ? tableRow(lineNo, analyzeEta(eta, { withMean: false, ws })) : evaluate(eta, s, ws);
      } catch (e) {
        if (e instanceof CcInputError || e instanceof UsageError) {
          throw new CcInputError(`${file}:${lineNo}: ${e.message}`);
        }
        throw e;
      }
      const text = typeof result === 'string' ? result : JSON.stringify(result);
      if (!out.write(`${text}\n`)) await once(out, 'drain');
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot read ${file}: no such file`);
    throw e;
  }
  return 0;
}

const TABLE_HEADER =
  'line      K  log C                naive f64 error  digits lost f64  naive f32 error  digits lost f32  near-uniform';

function tableRow(line: number, r: NormalizerReport): string {
  const err = (v: number | null): string => (v === null ? 'not run' : v === Infinity ? 'NaN/∞' : v === 0 ? '0' : v.toPrecision(3));
  return [
    String(line).padEnd(5),
    String(r.K).padStart(6),
    r.logC.toPrecision(15).padStart(20),
    err(r.naive.float64.errorNats).padStart(16),
    r.naive.float64.digitsLost.toFixed(1).padStart(16),
    err(r.naive.float32.errorNats).padStart(16),
    r.naive.float32.digitsLost.toFixed(1).padStart(16),
    (r.nearUniform ? 'yes' : 'no').padStart(13),
  ].join(' ');
}
