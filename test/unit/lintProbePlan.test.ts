/**
 * From a finding to its probe (the CodeLens): the smoothing α the rules read off the code, the
 * plan each finding gets, and the one-line summary of a results table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintText } from '../../src/core/lint/engine';
import { probePlanFor, summarizeTable } from '../../src/core/lint/probePlan';
import type { LintLanguage } from '../../src/core/lint/types';
import type { TableRow } from '../../src/shared/probeProtocol';

async function only(text: string, language: LintLanguage = 'python') {
  const { findings, parseError } = await lintText(text, language, 'x');
  assert.equal(parseError, undefined);
  assert.equal(findings.length, 1, JSON.stringify(findings));
  return findings[0];
}

describe('lint → probe plan', () => {
  it('each smoothing rule carries the α of the code (given, through a name, or the library default)', async () => {
    const cases: [string, LintLanguage, string, number][] = [
      ['from torch import nn\nLS = 0.2\nc = nn.CrossEntropyLoss(label_smoothing=LS)\n', 'python', 'LL101', 0.2],
      ['import torch.nn.functional as F\nl = F.cross_entropy(z, y, None, None, -100, None, "mean", 0.05)\n', 'python', 'LL101', 0.05],
      ['from timm.loss import LabelSmoothingCrossEntropy\nc = LabelSmoothingCrossEntropy()\n', 'python', 'LL105', 0.1],
      ['import timm.data\nm = timm.data.Mixup(mixup_alpha=0.8, label_smoothing=0.3)\n', 'python', 'LL105', 0.3],
      ['import tensorflow as tf\nl = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.15)\n', 'python', 'LL111', 0.15],
      ["import * as tf from '@tensorflow/tfjs';\nconst l = tf.losses.softmaxCrossEntropy(y, z, undefined, 0.25);\n", 'typescript', 'LL131', 0.25],
    ];
    for (const [text, language, code, alpha] of cases) {
      const f = await only(text, language);
      assert.equal(f.code, code, text);
      assert.equal(f.smoothing, alpha, text);
      const plan = probePlanFor(f);
      assert.deepEqual(plan, { key: `ls:${alpha}`, title: `Probe CE vs LS (α = ${alpha}) vs CC-LS`, losses: ['ce', 'ls', 'cc-ls'], alpha, data: 'fashion-mnist' }, text);
    }
  });

  it('soft targets and distillation get the soft-target CE vs CC probe, with no α', async () => {
    const cases = [
      'import torch\nimport torch.nn.functional as F\nl = F.cross_entropy(z, torch.softmax(t, 1))\n',
      'import torch.nn.functional as F\nl = F.kl_div(F.log_softmax(s, 1), F.softmax(t, 1))\n',
      'from timm.loss import SoftTargetCrossEntropy\nc = SoftTargetCrossEntropy()\n',
      'import optax\nl = optax.softmax_cross_entropy(z, optax.smooth_labels(y, 0.1))\n',
    ];
    for (const text of cases) {
      const f = await only(text);
      assert.equal(f.smoothing, undefined, text);
      assert.deepEqual(probePlanFor(f), { key: 'soft', title: 'Probe soft-target CE vs CC', losses: ['soft-ce', 'cc'], data: 'synthetic' }, text);
    }
  });

  it('an α the probe cannot use gives no plan', () => {
    assert.equal(probePlanFor({ code: 'LL101', smoothing: 1 }), undefined);
    assert.equal(probePlanFor({ code: 'LL101', smoothing: 0 }), undefined);
    assert.equal(probePlanFor({ code: 'LL101', smoothing: Number.NaN }), undefined);
  });

  it('the summary gives accuracy and ECE per loss, in the table order, n/a where a run failed', () => {
    const row = (loss: TableRow['loss'], acc: number | null, ece: number | null): TableRow => ({
      loss,
      runs: 1,
      accuracyMean: acc,
      accuracyStd: null,
      eceMean: ece,
      eceStd: null,
      evalLossMean: null,
      nearUniformMean: null,
      firstNaiveFailureStep: null,
      stepsPerSecond: null,
    });
    assert.equal(summarizeTable([row('ce', 0.859, 0.0201), row('ls', 0.8712, 0.0964), row('cc-ls', null, null)]), 'CE 85.9% ECE 0.020 · LS 87.1% ECE 0.096 · CC-LS n/a');
  });
});
