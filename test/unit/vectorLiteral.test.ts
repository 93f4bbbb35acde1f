import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiteralError, inferInterpretation, parseVectorLiteral } from '../../src/core';

describe('vector literals as ML code writes them', () => {
  const ok: [string, number[][]][] = [
    ['[0.1, 0.2, 0.7]', [[0.1, 0.2, 0.7]]],
    ['np.array([0.1, 0.2, 0.7], dtype=np.float32)', [[0.1, 0.2, 0.7]]],
    ['torch.tensor([[1.0, -2.0, 0.5],\n              [1, 2, 3]])', [[1, -2, 0.5], [1, 2, 3]]],
    ['[0.1 0.2 0.7]', [[0.1, 0.2, 0.7]]],
    ['0.1, 0.2,0.7', [[0.1, 0.2, 0.7]]],
    ['[1e-3, -2E+2, .5, +4.]', [[0.001, -200, 0.5, 4]]],
    ["tensor([0.1000, 0.9000], device='cuda:0')", [[0.1, 0.9]]],
    ['tf.constant([[0.25, 0.75]])', [[0.25, 0.75]]],
    ['[0.1, 0.2, 0.7,]', [[0.1, 0.2, 0.7]]],
  ];
  for (const [text, rows] of ok) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseVectorLiteral(text).rows, rows));
  }
  const bad: [string, RegExp, number][] = [
    ['[0.1, nan, 3]', /entry 2 \('nan'\) is not a finite number/, 6],
    ['[0.1, np.inf]', /entry 2 \('np.inf'\) is not a finite number/, 6],
    ['[0.1, abc]', /entry 2 \('abc'\) is not a number/, 6],
    ['[[1, 2], [1, 2, 3]]', /row 2 has 3 entries, row 1 has 2/, 10],
    ['[1, 2', /not closed/, 0],
    ['[]', /empty/, 0],
    ['[1, 2] and [3, 4]', /more than one list/, 6],
    ['[[[1]]]', /nested deeper/, 2],
  ];
  for (const [text, message, offset] of bad) {
    it(`rejects ${JSON.stringify(text)} at offset ${offset}`, () => {
      assert.throws(() => parseVectorLiteral(text), (e: unknown) => e instanceof LiteralError && message.test(e.message) && e.offset === offset);
    });
  }
  it('infers probabilities only for non-negative vectors summing to 1', () => {
    assert.equal(inferInterpretation([0.1, 0.2, 0.7]), 'probabilities');
    assert.equal(inferInterpretation([0.1, 0.2, 0.8]), 'logits');
    assert.equal(inferInterpretation([1.5, -0.5]), 'logits');
    assert.equal(inferInterpretation([0.3333333, 0.3333333, 0.3333334]), 'probabilities');
    assert.equal(inferInterpretation([0.333, 0.333, 0.333], 1e-2), 'probabilities');
  });
});
