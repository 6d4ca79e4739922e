import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { bceWithLogits, binaryCrossEntropy, mse, softmaxCrossEntropy } from '../src/ops/fused/losses.js';
import { expectClose, expectGradcheck, randn } from './helpers.js';

describe('softmax cross-entropy', () => {
  it('equals −log softmax at the label, by hand', () => {
    const logits = Tensor.from([1, 2, 3, 0, 0, 0], [2, 3], 'float64');
    const loss = softmaxCrossEntropy(logits, Int32Array.from([2, 0]));
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expectClose([loss.item()], [(-(3 - Math.log(z)) + Math.log(3)) / 2], 1e-12);
  });
  it('with label smoothing α uses targets (1 − α)·onehot + α/C', () => {
    const logits = Tensor.from([1, 2, 3], [1, 3], 'float64');
    const alpha = 0.1;
    const lz = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const logp = [1 - lz, 2 - lz, 3 - lz];
    const expected = -((1 - alpha) * logp[0] + (alpha / 3) * (logp[0] + logp[1] + logp[2]));
    expectClose([softmaxCrossEntropy(logits, Int32Array.from([0]), { smoothing: alpha }).item()], [expected], 1e-12);
  });
  it('stays finite for huge logits', () => {
    const loss = softmaxCrossEntropy(Tensor.from([1e4, 0, -1e4], [1, 3]), Int32Array.from([1]));
    expectClose([loss.item()], [1e4], 1e-6);
  });
  it('passes gradient checks, with smoothing and a custom divisor', () => {
    const logits = randn([4, 5], 1, 2);
    const labels = Int32Array.from([0, 4, 2, 2]);
    expectGradcheck(() => softmaxCrossEntropy(logits, labels), [logits]);
    expectGradcheck(() => softmaxCrossEntropy(logits, labels, { smoothing: 0.2, divisor: 10 }), [logits]);
  });
  it('rejects a label outside the classes, naming the row', () => {
    expect(() => softmaxCrossEntropy(Tensor.zeros([2, 3]), Int32Array.from([0, 3]))).toThrow(/label 3 at row 1/);
  });
});

describe('MSE and binary cross-entropy', () => {
  it('values by hand', () => {
    expectClose([mse(Tensor.from([1, 2], [2], 'float64'), [0, 4]).item()], [(1 + 4) / 2], 1e-12);
    const bce = binaryCrossEntropy(Tensor.from([0.8, 0.3], [2], 'float64'), [1, 0]).item();
    expectClose([bce], [-(Math.log(0.8) + Math.log(0.7)) / 2], 1e-12);
    const z = [2, -1];
    const withLogits = bceWithLogits(Tensor.from(z, [2], 'float64'), [1, 0]).item();
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    expectClose([withLogits], [-(Math.log(sig(2)) + Math.log(1 - sig(-1))) / 2], 1e-12);
  });
  it('gradient checks', () => {
    const p = randn([6], 2);
    const t = [0.5, -1, 2, 0, 1, 3];
    expectGradcheck(() => mse(p, t), [p]);
    const prob = Tensor.from([0.1, 0.4, 0.7, 0.95], [4], 'float64', true);
    expectGradcheck(() => binaryCrossEntropy(prob, [0, 1, 1, 0]), [prob]);
    const logits = randn([5], 3, 3);
    expectGradcheck(() => bceWithLogits(logits, [0, 1, 1, 0, 0.3]), [logits]);
  });
});
