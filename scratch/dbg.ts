import { logNormalizer } from '../src/core';
import { bigLogC } from '../test/reference/bigSeries';
import { rng } from '../test/reference/vectors';
for (const K of [10, 100, 300, 1000]) for (const spread of [300, 400, 450, 500, 600, 700]) {
  const r = rng(K + spread); const eta = Array.from({length: K}, () => r()*spread); eta[0]=0; eta[1]=spread;
  const a = logNormalizer(eta), b = Number(bigLogC(eta).logC.toString());
  console.log(K, spread, a, b, a-b);
}
