/**
 * The lint worker: runs the engine on big documents off the extension host's thread. One worker
 * lives as long as the extension, so the wasm runtime and grammars are loaded once. Bundled to
 * dist/lintWorker.js, next to dist/tree-sitter/ where the engine finds its .wasm files.
 */
import { parentPort } from 'node:worker_threads';
import { lintText } from '../../core/lint/engine';
import type { LintReply, LintRequest } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('lintWorker runs as a worker thread');

// One request at a time, in order: the engine shares one parser per language, and the host
// already coalesces requests per document, so a queue here never grows long.
let chain = Promise.resolve();
port.on('message', (m: LintRequest) => {
  chain = chain.then(async () => {
    let reply: LintReply;
    try {
      reply = { id: m.id, result: await lintText(m.text, m.language, m.file, m.options) };
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
});
