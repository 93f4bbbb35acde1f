import * as assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { ccMean, logNormalizerFromLambda } from '../../../src/core';
import type { CheckNormalizerResult } from '../../../src/extension/commands/checkNormalizer';

const EXTENSION_ID = 'loss-lens.loss-lens';

async function openFixture(name: string): Promise<vscode.TextEditor> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the fixture workspace is open');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, name));
  return vscode.window.showTextDocument(doc);
}

/** Selects the first occurrence of `text` in the editor. */
function select(editor: vscode.TextEditor, text: string): void {
  const at = editor.document.getText().indexOf(text);
  assert.ok(at >= 0, `${text} is in the fixture`);
  editor.selection = new vscode.Selection(editor.document.positionAt(at), editor.document.positionAt(at + text.length));
}

function check(): Thenable<CheckNormalizerResult | undefined> {
  return vscode.commands.executeCommand<CheckNormalizerResult | undefined>('lossLens.checkNormalizer');
}

export function register(): void {
  describe('Loss Lens: Check CC Normalizer', () => {
    before(async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is installed`);
      await ext.activate();
    });

    it('is contributed to the palette and to the editor context menu', async () => {
      const commands = await vscode.commands.getCommands(true);
      assert.ok(commands.includes('lossLens.checkNormalizer'));
      assert.ok(commands.includes('lossLens.showLog'));
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
        contributes: { menus: Record<string, { command: string }[]> };
      };
      assert.ok(pkg.contributes.menus['editor/context'].some((m) => m.command === 'lossLens.checkNormalizer'));
    });

    it('reads a selected np.array as probabilities', async () => {
      const editor = await openFixture('vectors.py');
      select(editor, 'np.array([0.1, 0.2, 0.7])');
      const result = await check();
      assert.ok(result, 'a result');
      assert.equal(result.interpretation, 'probabilities');
      assert.equal(result.reports.length, 1);
      assert.equal(result.reports[0].K, 3);
      assert.equal(result.reports[0].logC, logNormalizerFromLambda([0.1, 0.2, 0.7]));
      assert.equal(result.reports[0].nearUniform, false);
      assert.equal(result.reports[0].mean?.length, 3);
    });

    it('reads a multi-line torch.tensor as rows of logits', async () => {
      const editor = await openFixture('vectors.py');
      select(editor, 'torch.tensor([[2.0, -1.0, 0.5],\n                       [0.3, 0.1, -0.2]])');
      const result = await check();
      assert.ok(result);
      assert.equal(result.interpretation, 'logits');
      assert.deepEqual(
        result.reports.map((r) => r.logC),
        [ccMean([2, -1, 0.5]).logC, ccMean([0.3, 0.1, -0.2]).logC],
      );
    });

    it('with nothing selected reads the current line, and flags a near-uniform head', async () => {
      const editor = await openFixture('vectors.py');
      const line = editor.document.getText().split('\n').findIndex((l) => l.startsWith('init ='));
      editor.selection = new vscode.Selection(line, 3, line, 3);
      const result = await check();
      assert.ok(result);
      assert.equal(result.reports[0].K, 6);
      assert.equal(result.reports[0].nearUniform, true);
      assert.ok(result.reports[0].naive.float32.digitsLost > 5.22);
    });

    it('honours lossLens.normalizer.interpretation', async () => {
      const config = vscode.workspace.getConfiguration('lossLens');
      await config.update('normalizer.interpretation', 'logits', vscode.ConfigurationTarget.Global);
      try {
        const editor = await openFixture('vectors.py');
        select(editor, '[0.1, 0.2, 0.7]');
        const result = await check();
        assert.equal(result?.interpretation, 'logits');
        assert.equal(result?.reports[0].logC, ccMean([0.1, 0.2, 0.7]).logC);
      } finally {
        await config.update('normalizer.interpretation', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it("with 'ask', offers both readings in a quick pick, the inferred one first", async () => {
      const config = vscode.workspace.getConfiguration('lossLens');
      await config.update('normalizer.interpretation', 'ask', vscode.ConfigurationTarget.Global);
      try {
        const editor = await openFixture('vectors.py');
        select(editor, '[0.1, 0.2, 0.7]');
        let settled = false;
        const pending = check().then((r) => {
          settled = true;
          return r;
        });
        // Accept the first item of the quick pick once it is open (polling, no fixed sleep).
        for (let i = 0; i < 100 && !settled; i++) {
          await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
          await new Promise((r) => setTimeout(r, 50));
        }
        const result = await pending;
        assert.equal(result?.interpretation, 'probabilities');
      } finally {
        await config.update('normalizer.interpretation', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('reports a non-finite entry instead of failing, and keeps working', async () => {
      const editor = await openFixture('vectors.py');
      select(editor, '[0.1, nan, 0.3]');
      assert.equal(await check(), undefined);
      const again = await vscode.commands.executeCommand<CheckNormalizerResult>('lossLens.checkNormalizer', '[1, 0]', 'logits');
      assert.equal(again?.reports[0].logC, ccMean([1, 0]).logC);
    });
  });
}
