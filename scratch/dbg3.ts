import { logNormalizer } from '../src/core';
import { bigLogC, bigNaiveLogC } from '../test/reference/bigSeries';
import { rng } from '../test/reference/vectors';
const K = 300, spread = 700;
const r = rng(K + spread); const eta = Array.from({length: K}, () => r()*spread); eta[0]=0; eta[1]=spread;
console.log(logNormalizer(eta));
console.log(bigLogC(eta).logC.toString());
console.log(bigNaiveLogC(eta, 500).toString());
console.log(bigNaiveLogC(eta, 700).toString());
