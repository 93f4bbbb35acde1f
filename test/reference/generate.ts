/**
 * Writes test/fixtures/cc-reference.json: log C and selected mean components for every
 * vector of the reference grid (test/reference/vectors.ts), from the arbitrary-precision
 * oracle in bigSeries.ts, to 25 significant digits. Run with `npm run reference`.
 */
import { writeFileSync } from 'node:fs';
import { bigLogC } from './bigSeries';
import { makeVector, meanComponents, referenceGrid } from './vectors';

const out: unknown[] = [];
const t0 = Date.now();
for (const spec of referenceGrid()) {
  const eta = makeVector(spec);
  const js = meanComponents(eta);
  const r = bigLogC(eta, js);
  out.push({
    ...spec,
    logC: r.logC.toSignificantDigits(25).toString(),
    mean: js.map((j) => [j, r.mean!.get(j)!.toSignificantDigits(25).toString()]),
  });
  process.stderr.write(`K=${spec.K} spread=${spec.spread} ${spec.pattern}: ${r.terms} terms\n`);
}
const file = new URL('../fixtures/cc-reference.json', import.meta.url);
writeFileSync(file, `${JSON.stringify({ generator: 'test/reference/generate.ts', digits: 25, vectors: out }, null, 1)}\n`);
process.stderr.write(`${out.length} vectors in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
