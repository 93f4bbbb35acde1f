/** A small `--key=value` / `--flag` / `--no-flag` parser; positional arguments kept in order. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | boolean>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (a.startsWith('--no-')) options.set(a.slice(5), false);
      else options.set(a.slice(2), true);
    } else {
      positional.push(a);
    }
  }
  return { positional, options };
}

/** Fails on options the command does not know, naming them. */
export function checkKnown(args: ParsedArgs, known: readonly string[]): void {
  for (const key of args.options.keys()) {
    if (!known.includes(key)) throw new UsageError(`unknown option --${key} (known: ${known.map((k) => `--${k}`).join(', ')})`);
  }
}

export function stringOption(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${key} needs a value: --${key}=...`);
  return v;
}

export function flag(args: ParsedArgs, key: string, fallback: boolean): boolean {
  const v = args.options.get(key);
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${key} is a flag; use --${key} or --no-${key}`);
}
