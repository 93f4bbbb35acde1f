import { CcWorkspace, logExpDivDiff } from '../src/core';
import { rng } from '../test/reference/vectors';
const K = 300, spread = 700;
const r = rng(K + spread); const eta = Array.from({length: K}, () => r()*spread); eta[0]=0; eta[1]=spread;
const ws = new CcWorkspace();
logExpDivDiff(eta, ws);
const t = ws.terms; let mx = 0, imx = 0;
for (let i = 0; i < ws.nTerms; i++) if (t[i] > mx) { mx = t[i]; imx = i; }
console.log('nTerms', ws.nTerms, 'peak at', imx, 'sum', ws.sum, 'last terms', Array.from(t.slice(ws.nTerms-4, ws.nTerms)), 'first', Array.from(t.slice(0, 6)));
// log-ratios of consecutive terms
const lr = []; for (let i = 1; i < ws.nTerms; i += 50) lr.push([i, Math.log(t[i])]);
console.log(lr.map(x=>x.join(':')).join(' '));
