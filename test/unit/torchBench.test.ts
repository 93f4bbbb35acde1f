import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPython, torchPython } from '../fixtures/torch/torchEnv';

describe('the GPU script\'s benchmark (python -m loss_lens_probe --bench), on the CPU', () => {
  it('trains CE and CC-LS on the CNN preset and reports steps/s for each', async () => {
    const { python } = await torchPython();
    const out = await runPython(python, ['-m', 'loss_lens_probe', '--bench', '--steps=4', '--devices=cpu']);
    assert.match(out, /CC-LS step time \/ CE step time: \d+\.\d\d/);
    const results = JSON.parse(out.trim().split('\n').pop()!) as Record<string, Record<string, { status: string; 'steps/s': number }>>;
    for (const loss of ['ce', 'cc-ls']) {
      assert.equal(results.cpu[loss].status, 'done');
      assert.ok(results.cpu[loss]['steps/s'] > 0);
    }
  });
});
