// Bundles the extension (CommonJS, `vscode` external) and the CLI (a Node script).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'info',
  define: { 'process.env.LOSS_LENS_VERSION': JSON.stringify(version) },
};

const builds = [
  { ...common, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' },
  // The label-statistics worker (worker_threads), next to the extension.
  { ...common, entryPoints: ['src/extension/labelWorker.ts'], outfile: 'dist/labelWorker.js' },
  // The lint worker (worker_threads): big documents are linted off the extension host's thread.
  { ...common, entryPoints: ['src/extension/lint/lintWorker.ts'], outfile: 'dist/lintWorker.js' },
  // The probe worker (worker_threads): tfjs training, or the PyTorch child's driver. tfjs-node
  // is optional and never bundled: it is required at run time when the user has installed it.
  {
    ...common,
    entryPoints: ['src/probe/probeWorker.ts'],
    outfile: 'dist/probeWorker.js',
    external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  },
  // The panel's page: a browser bundle (chart.js, @vscode-elements) with no Node in it.
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/panel.ts'],
    outfile: 'dist/webview/panel.js',
  },
  // The integration suites, loaded by VS Code's extension host (mocha from node_modules).
  {
    ...common,
    entryPoints: ['test/integration/suite/index.ts'],
    outfile: 'dist/test/integration/index.js',
    external: ['vscode', 'mocha'],
  },
];

// tfjs-backend-wasm loads its .wasm binaries from a folder at run time; the probe runtime
// (src/probe/tfjs/backend.ts) looks for them in dist/tfjs-wasm next to the bundles.
const wasmSrc = new URL('./node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url);
const wasmDst = new URL('./dist/tfjs-wasm/', import.meta.url);
mkdirSync(wasmDst, { recursive: true });
for (const f of readdirSync(wasmSrc).filter((n) => n.endsWith('.wasm'))) copyFileSync(new URL(f, wasmSrc), new URL(f, wasmDst));

// The lint engine (src/core/lint/parser.ts) loads web-tree-sitter's runtime and the grammars
// VS Code ships from dist/tree-sitter next to the bundles.
const tsDst = new URL('./dist/tree-sitter/', import.meta.url);
mkdirSync(tsDst, { recursive: true });
copyFileSync(new URL('./node_modules/web-tree-sitter/tree-sitter.wasm', import.meta.url), new URL('tree-sitter.wasm', tsDst));
for (const lang of ['python', 'typescript', 'tsx', 'javascript']) {
  const f = `tree-sitter-${lang}.wasm`;
  copyFileSync(new URL(`./node_modules/@vscode/tree-sitter-wasm/wasm/${f}`, import.meta.url), new URL(f, tsDst));
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
