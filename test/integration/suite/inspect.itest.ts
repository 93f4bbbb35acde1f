import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { LabelStats, openLabels } from '../../../src/core/labels';
import type { LossLensApi } from '../../../src/extension/main';
import type { InspectView, Rendered } from '../../../src/shared/panelProtocol';
import { until } from './until';

const EXTENSION_ID = 'loss-lens.loss-lens';
let api: LossLensApi;
let root: string;

async function expectedStats(file: string) {
  const src = await openLabels(file);
  const stats = new LabelStats(src.info.K);
  for await (const c of src.chunks()) stats.add(c);
  return stats.result();
}

function rendered(heading: string): Promise<Rendered> {
  return until(`the panel to render ${heading}`, () => {
    const r = api.panel()?.view.lastRendered;
    return r && r.heading === heading ? r : undefined;
  });
}

export function register(): void {
  describe('Loss Lens: Inspect Label Distribution', () => {
    before(async () => {
      const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
      assert.ok(ext);
      api = await ext.activate();
      root = join(ext.extensionPath, 'test', 'fixtures', 'labels', 'npy');
    });

    it('is offered in the explorer and editor context menus for label files', () => {
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
        contributes: { menus: Record<string, { command: string; when: string }[]>; customEditors: { viewType: string; priority: string }[] };
      };
      const explorer = pkg.contributes.menus['explorer/context'].find((m) => m.command === 'lossLens.inspectLabels');
      assert.ok(explorer && /npy\|npz\|csv\|tsv\|jsonl/.test(explorer.when));
      assert.ok(pkg.contributes.menus['editor/context'].some((m) => m.command === 'lossLens.inspectLabels'));
      assert.deepEqual(pkg.contributes.customEditors.map((e) => [e.viewType, e.priority]), [['lossLens.labelPreview', 'option']]);
    });

    it('a CSV: the figures reach the panel, and the page shows them', async () => {
      const file = join(root, 'same.csv');
      const view = await vscode.commands.executeCommand<InspectView>('lossLens.inspectLabels', vscode.Uri.file(file));
      assert.ok(view, 'a result');
      assert.deepEqual(view.result, await expectedStats(file), 'computed in the worker as in the core');
      assert.equal(view.hasLines, true);
      const page = await rendered('same.csv');
      assert.deepEqual(page.banner, [
        '2 rows off the simplex (|Σp − 1| > 0.001)',
        '1 row with a negative entry',
        '2 rows with NaN or ±∞',
        '2 rows near-uniform (a naive float32 CC normalizer keeps < 2 digits)',
      ]);
      assert.match(page.summary, /rows 40 classes K 5 valid rows 36 \(90\.0%\)/);
      assert.equal(page.charts.length, 4);
      assert.ok(page.charts.every((c) => /: (20|5\/5) points$/.test(c)), page.charts.join(', '));
      assert.equal(page.flaggedRows, view.result.flaggedTotal);
      assert.equal(page.error, '');
    });

    it('a .npz replaces the view in the same panel; a bad file shows the error, the byte, and keeps the panel', async () => {
      const view = await vscode.commands.executeCommand<InspectView>('lossLens.inspectLabels', vscode.Uri.file(join(root, 'soft_compressed.npz')));
      assert.equal(view?.result.rows, 40);
      const page = await rendered('soft_compressed.npz');
      assert.equal(page.flaggedRows, view?.result.flaggedTotal);
      const bad = await vscode.commands.executeCommand<InspectView | undefined>('lossLens.inspectLabels', vscode.Uri.file(join(root, 'truncated.npy')));
      assert.equal(bad, undefined);
      const failed = await rendered('truncated.npy');
      assert.match(failed.error, /truncated\.npy \(byte 1691\): the header says shape \(40, 5\)/);
    });

    it('restores its content when hidden and shown again (the page state)', async () => {
      await vscode.commands.executeCommand('lossLens.inspectLabels', vscode.Uri.file(join(root, 'same.jsonl')));
      await rendered('same.jsonl');
      const panel = api.panel()!;
      const column = panel.view.panel.viewColumn;
      // Another editor in the panel's group hides it; its page is discarded (no retained context).
      const doc = await vscode.workspace.openTextDocument({ content: 'hide the panel', language: 'plaintext' });
      await vscode.window.showTextDocument(doc, { viewColumn: column, preview: false });
      await until('the panel to be hidden', () => (panel.view.panel.visible ? undefined : true));
      panel.view.lastRendered = undefined;
      panel.view.panel.reveal(column);
      const again = await rendered('same.jsonl');
      assert.match(again.summary, /rows 40/);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    it('opens a .npy in the read-only label preview when asked (Open With)', async () => {
      const uri = vscode.Uri.file(join(root, 'soft_f32.npy'));
      await vscode.commands.executeCommand('vscode.openWith', uri, 'lossLens.labelPreview');
      const page = await until('the preview to render', () => api.previews().map((p) => p.lastRendered).find((r) => r?.heading === 'soft_f32.npy'));
      assert.match(page.summary, /rows 40/);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  });
}
