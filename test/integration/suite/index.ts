/**
 * The integration suites, run inside a real VS Code extension host (code-server or VS Code
 * desktop through @vscode/test-electron). VS Code calls `run`; its console output reaches the
 * runner (test/integration/runTest.ts), which prints the closing "N passed, N failed" line.
 */
import Mocha from 'mocha';
import { register as registerInspect } from './inspect.itest';
import { register as registerLint } from './lint.itest';
import { register as registerNormalizer } from './normalizer.itest';
import { register as registerProbe } from './probe.itest';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'loss-lens-integration', mocha);
  registerNormalizer();
  registerInspect();
  registerProbe();
  registerLint();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, pending = 0 } = runner.stats ?? {};
      console.log(`integration: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
