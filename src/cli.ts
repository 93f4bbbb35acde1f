#!/usr/bin/env node
import { CcInputError } from './core';
import { LiteralError } from './core/vectorLiteral';
import { UsageError, parseArgs } from './cli/args';
import { INSPECT_HELP, runInspect } from './cli/inspectCommand';
import { LINT_HELP, runLint } from './cli/lintCommand';
import { NORMALIZER_HELP, runNormalizer } from './cli/normalizerCommand';
import { PROBE_HELP, runProbeCommand } from './cli/probeCommand';
import { ProbeSetupError } from './probe/errors';
import { LabelFileError, ReadCancelled } from './core/labels';
import { LintConfigError } from './core/lint/config';

const HELP = `loss-lens: loss diagnostics for soft targets

Usage: loss-lens <command> [options]

Commands:
  normalizer   the continuous-categorical normalizer log C(λ), its mean, and how badly the
               naive formula fails on the same λ
  inspect      statistics of a file of soft labels: entropy, max probability, distance from
               uniform, rows off the simplex or near-uniform
  probe        train a model for a few hundred steps with cross-entropy, label smoothing
               and CC-LS (or soft-target CE vs CC) side by side, with the CC normalizer's
               health at every evaluation
  lint         find cross-entropy on soft targets (label smoothing, distillation, soft
               labels) in Python and TS/JS code; text, JSON or SARIF

Run 'loss-lens <command> --help' for a command's options.

${NORMALIZER_HELP}

${INSPECT_HELP}

${PROBE_HELP}

${LINT_HELP}`;

// argv: the command's raw arguments, for options that may be repeated (lint --exclude).
const commands: Record<string, (args: ReturnType<typeof parseArgs>, out: NodeJS.WritableStream, argv: string[]) => Promise<number>> = {
  normalizer: runNormalizer,
  inspect: runInspect,
  probe: runProbeCommand,
  lint: runLint,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${process.env.LOSS_LENS_VERSION ?? 'dev'}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command '${name}' (known: ${Object.keys(commands).join(', ')})`);
  return command(parseArgs(rest), process.stdout, rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (
      e instanceof CcInputError ||
      e instanceof UsageError ||
      e instanceof LiteralError ||
      e instanceof LabelFileError ||
      e instanceof ReadCancelled ||
      e instanceof ProbeSetupError ||
      e instanceof LintConfigError
    ) {
      process.stderr.write(`loss-lens: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`loss-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
