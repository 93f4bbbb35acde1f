import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/extension/main';
import type { ProbeOutcome } from '../../../src/probe/host';
import type { Rendered } from '../../../src/shared/panelProtocol';
import type { ProbeConfig, ProbeEvent } from '../../../src/shared/probeProtocol';
import { until } from './until';

const EXTENSION_ID = 'loss-lens.loss-lens';
let api: LossLensApi;

/** A small preset probe on the synthetic set, on the bundled wasm backend. */
function small(over: Partial<ProbeConfig> = {}): Partial<ProbeConfig> {
  return {
    model: { kind: 'preset', preset: 'mlp', options: { hidden: 32, batchNorm: false, dropout: 0, weightDecay: 0 } },
    data: { kind: 'synthetic', classes: 5, features: 8, train: 512, test: 128 },
    losses: ['ce', 'cc-ls'],
    seeds: [1],
    steps: 20,
    evalEvery: 10,
    evalRows: 128,
    batchSize: 32,
    backend: 'tfjs-wasm',
    ...over,
  };
}

function renderedProbe(pred: (r: Rendered) => boolean, what: string): Promise<Rendered> {
  return until(what, () => {
    const r = api.panel()?.view.lastRendered;
    return r?.probe && pred(r) ? r : undefined;
  }, 30_000);
}

const count = (events: ProbeEvent[], type: ProbeEvent['type']): number => events.filter((e) => e.type === type).length;

export function register(): void {
  describe('Loss Lens: Probe Training', function () {
    this.timeout(120_000);
    before(async () => {
      const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
      assert.ok(ext);
      api = await ext.activate();
    });

    it('is offered on model files in the explorer, and its settings are documented', () => {
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
        contributes: { menus: Record<string, { command: string; when: string }[]>; configuration: { properties: Record<string, unknown> } };
      };
      const entry = pkg.contributes.menus['explorer/context'].find((m) => m.command === 'lossLens.probeTraining');
      assert.ok(entry && /keras\|pt\|pth/.test(entry.when) && /model/.test(entry.when));
      for (const key of ['backend', 'pythonPath', 'device', 'steps', 'losses', 'alpha']) {
        assert.ok(pkg.contributes.configuration.properties[`lossLens.probe.${key}`], `lossLens.probe.${key}`);
      }
    });

    it('a 20-step preset probe: its events reach the panel, and the page draws them', async () => {
      const outcome = await vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small());
      assert.equal(outcome?.status, 'done', outcome?.message);
      assert.ok(outcome.savedTo && existsSync(outcome.savedTo), 'the run is saved in the workspace storage');
      const saved = readFileSync(outcome.savedTo, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeEvent);
      assert.equal(count(saved, 'run/started'), 2);
      assert.equal(count(saved, 'run/eval'), 4, 'evaluations at steps 10 and 20 of each run');
      const r = await renderedProbe((x) => x.probe!.status === 'done', 'the finished probe in the panel');
      assert.equal(r.probe!.runs, 2);
      assert.equal(r.probe!.points, 40, 'every training step drawn');
      assert.equal(r.probe!.evals, 4);
      assert.match(r.probe!.backend, /\(tfjs-wasm\)/);
      assert.equal(r.probe!.table.length, 3, 'a header and a results row per loss');
      assert.match(r.probe!.table.map((row) => row.join(' ')).join('\n'), /CC-LS/);
    });

    it('cancel stops a running probe within a second, and the partial curves stay', async () => {
      const running = vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ steps: 100_000, evalEvery: 50 }));
      const session = await until('the probe to start', () => api.probe(), 30_000);
      await until('some training steps', () => (session.events.some((e) => e.type === 'run/steps') ? true : undefined), 30_000);
      const t0 = Date.now();
      await vscode.commands.executeCommand('lossLens.cancelProbe');
      const outcome = await running;
      const ms = Date.now() - t0;
      assert.equal(outcome?.status, 'cancelled');
      assert.ok(ms < 1500, `cancelled after ${ms} ms`);
      const r = await renderedProbe((x) => x.probe!.status === 'cancelled', 'the cancelled probe in the panel');
      assert.ok(r.probe!.points > 0, 'the partial curve is still drawn');
      assert.equal(api.probe(), undefined);
    });

    it('a panel closed mid-run: Show Running Probe opens a new one with the whole run so far', async () => {
      const running = vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ steps: 100_000, evalEvery: 50 }));
      const session = await until('the probe to start', () => api.probe(), 30_000);
      await until('some training steps', () => (session.events.some((e) => e.type === 'run/steps') ? true : undefined), 30_000);
      api.panel()!.view.panel.dispose();
      await until('the panel to close', () => (api.panel() === undefined ? true : undefined), 30_000);
      await vscode.commands.executeCommand('lossLens.showProbe');
      const r = await renderedProbe((x) => x.probe!.status === 'running' && x.probe!.points > 0, 'the running probe in a new panel');
      assert.equal(r.probe!.runs, 1);
      await vscode.commands.executeCommand('lossLens.cancelProbe');
      assert.equal((await running)?.status, 'cancelled');
    });

    it('a killed worker: the probe fails with the reason, the host lives, the next probe starts cleanly', async () => {
      const running = vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ steps: 100_000, evalEvery: 50 }));
      const session = await until('the probe to start', () => api.probe(), 30_000);
      await until('some training steps', () => (session.events.some((e) => e.type === 'run/steps') ? true : undefined), 30_000);
      session.kill();
      const outcome = await running;
      assert.equal(outcome?.status, 'failed');
      assert.match(outcome.message ?? '', /worker stopped unexpectedly/);
      const r = await renderedProbe((x) => x.probe!.status === 'failed', 'the failed probe in the panel');
      assert.ok(r.probe!.points > 0);
      const next = await vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ steps: 10, evalEvery: 5, losses: ['ce'] }));
      assert.equal(next?.status, 'done', next?.message);
    });

    it('a PyTorch probe runs with the interpreter the Python extension selected (its public environments API; a stand-in here)', async () => {
      const py = vscode.extensions.getExtension<{ standin: { wrapper: string; calls: string; asked: (string | null)[] } }>('ms-python.python');
      assert.ok(py, 'the stand-in for ms-python.python is loaded');
      const { standin } = await py.activate();
      assert.equal(vscode.workspace.getConfiguration('lossLens.probe').get('pythonPath'), '', 'no interpreter set in the settings');
      const before = existsSync(standin.calls) ? readFileSync(standin.calls, 'utf8') : '';
      const outcome = await vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ backend: 'pytorch', losses: ['cc-ls'], steps: 5, evalEvery: 5 }));
      assert.equal(outcome?.status, 'done', outcome?.message);
      const calls = readFileSync(standin.calls, 'utf8').slice(before.length);
      assert.match(calls, /-m loss_lens_probe --env/, 'the interpreter check ran through the selected interpreter');
      assert.match(calls, /-m loss_lens_probe\n/, 'and so did the worker');
      assert.equal(standin.asked.at(-1), vscode.workspace.workspaceFolders?.[0]?.uri.toString(), 'asked for the workspace folder’s interpreter');
      const saved = readFileSync(outcome.savedTo!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeEvent);
      const logs = saved.filter((e): e is Extract<ProbeEvent, { type: 'probe/log' }> => e.type === 'probe/log').map((e) => e.message);
      assert.ok(logs.some((m) => /^PyTorch .* on CPU.*; CC loss, few classes: (native kernel|PyTorch operations)/.test(m)), logs.join(' | '));
    });

    it('a saved run reloads into the panel', async () => {
      const outcome = await vscode.commands.executeCommand<ProbeOutcome>('lossLens.probeTraining', undefined, small({ steps: 12, evalEvery: 6 }));
      assert.ok(outcome?.savedTo);
      const n = await vscode.commands.executeCommand<number>('lossLens.openProbeRun', vscode.Uri.file(outcome.savedTo));
      assert.ok(n && n > 0);
      const r = await renderedProbe((x) => x.probe!.status === 'done' && x.probe!.points === 24, 'the reloaded run');
      assert.equal(r.probe!.runs, 2);
      assert.equal(r.probe!.evals, 4);
    });
  });
}
