import type { NormalizerReport } from './analysis';
import { NEAR_UNIFORM_DIGITS_KEPT, NEAR_UNIFORM_DIGITS_LOST, digitsOf } from './analysis';

/** The report as JSON-safe data: NaN and ±Infinity become null (JSON has no such numbers). */
export function reportToJson(report: NormalizerReport): unknown {
  const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);
  const naive = (n: NormalizerReport['naive']['float64']) => ({
    logC: finite(n.logC),
    digitsLost: n.digitsLost,
    errorNats: finite(n.errorNats),
  });
  return {
    K: report.K,
    logC: report.logC,
    ...(report.mean ? { mean: report.mean } : {}),
    naive: {
      float64: naive(report.naive.float64),
      float32: naive(report.naive.float32),
      ...(report.naive.sampled ? { sampled: true } : {}),
    },
    nearUniform: report.nearUniform,
  };
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(17).replace(/\.?0+(e|$)/, '$1') : String(v));

function showVector(v: readonly number[], max = 8): string {
  const shown = v.slice(0, max).map((x) => x.toPrecision(6));
  return `[${shown.join(', ')}${v.length > max ? `, … (${v.length - max} more)` : ''}]`;
}

/** A readable summary, as the CLI prints without --json and the extension's log shows. */
export function formatReport(report: NormalizerReport, heading?: string): string {
  const lines: string[] = [];
  if (heading) lines.push(heading);
  lines.push(`K = ${report.K}`);
  lines.push(`log C(λ) = ${fmt(report.logC)}`);
  if (report.mean) lines.push(`mean μ = E[x] = ${showVector(report.mean)}`);
  for (const p of ['float64', 'float32'] as const) {
    const n = report.naive[p];
    const D = digitsOf(p);
    const value = n.logC === null ? 'not run (K too large for the O(K²) formula)' : `log C = ${fmt(n.logC)}`;
    const err = n.errorNats === null ? '' : `, off by ${n.errorNats === Infinity ? '∞' : n.errorNats === 0 ? '0' : n.errorNats.toPrecision(3)} nats`;
    lines.push(
      `naive ${p}: ${value}${err}; loses ${n.digitsLost.toFixed(1)} of ${D.toFixed(1)} digits${report.naive.sampled ? ' (estimated from a sample of terms)' : ''}`,
    );
  }
  lines.push(
    report.nearUniform
      ? `near-uniform: yes (a naive float32 CC would lose more than ${NEAR_UNIFORM_DIGITS_LOST.toFixed(2)} digits here, keeping fewer than ${NEAR_UNIFORM_DIGITS_KEPT})`
      : 'near-uniform: no',
  );
  return lines.join('\n');
}
