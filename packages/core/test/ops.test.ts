import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { add, div, mul, sub } from '../src/ops/binary.js';
import { matmul } from '../src/ops/matmul.js';
import { mean, sum } from '../src/ops/reduce.js';
import { concat, gather, reshape, slice, transpose } from '../src/ops/shape.js';
import { logSoftmax, softmax } from '../src/ops/softmax.js';
import { exp, gelu, log, neg, relu, scale, sigmoid, square, tanh } from '../src/ops/unary.js';
import { batchNormTrain } from '../src/ops/fused/batchnorm.js';
import { applyMask } from '../src/ops/fused/mask.js';
import { linear } from '../src/ops/fused/linear.js';
import { tanh64 } from '../src/kernels/elementwise-reference.js';
import { expectClose, expectGradcheck, randn } from './helpers.js';

describe('binary ops: values and broadcasting', () => {
  it('adds a row vector over a batch', () => {
    const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = Tensor.from([10, 20, 30], [3]);
    expect(add(a, b).toArray()).toEqual([11, 22, 33, 14, 25, 36]);
    expect(mul(a, b).toArray()).toEqual([10, 40, 90, 40, 100, 180]);
  });
  it('broadcasts a column against a row into a grid', () => {
    const col = Tensor.from([1, 2], [2, 1]);
    const row = Tensor.from([10, 20, 30], [1, 3]);
    const out = sub(row, col);
    expect(out.shape).toEqual([2, 3]);
    expect(out.toArray()).toEqual([9, 19, 29, 8, 18, 28]);
  });
  it('rejects shapes that do not broadcast', () => {
    expect(() => add(Tensor.zeros([2, 3]), Tensor.zeros([2]))).toThrow(/Cannot broadcast shapes \[2, 3\] and \[2\]/);
  });
});

describe('gradient checks (float64, central differences)', () => {
  const binaries = { add, sub, mul, div };
  for (const [name, op] of Object.entries(binaries)) {
    it(`${name}: same shape, row-vector broadcast and scalar broadcast`, () => {
      const a = randn([3, 4], 1);
      const b = randn([3, 4], 2, 1, name === 'div' ? 3 : 0);
      expectGradcheck(() => op(a, b), [a, b]);
      const row = randn([4], 3, 1, name === 'div' ? 3 : 0);
      expectGradcheck(() => op(a, row), [a, row]);
      const col = randn([3, 1], 4, 1, name === 'div' ? 3 : 0);
      expectGradcheck(() => op(col, a), [col, a]);
    });
  }

  const unaries = { neg, exp, tanh, sigmoid, gelu, square, relu };
  for (const [name, op] of Object.entries(unaries)) {
    it(`${name}`, () => {
      // relu's kink at 0 is avoided: N(0,1) samples are nowhere near ±1e-6 of it.
      const x = randn([4, 5], 5, 2);
      expectGradcheck(() => op(x), [x]);
    });
  }

  // A first gradient is stored without reading the buffer (which the test suites fill with
  // NaN, see vitest.package.ts); a second one is added to it. gradcheck zeroes the inputs'
  // gradients, so the tensor under test is an intermediate, h = 1.5·x: used once, its
  // gradient is stored; used twice, stored and then added to.
  it('relu, tanh, dropout masks, BatchNorm and reshape store a first gradient and add a second', () => {
    const x = randn([6, 5], 11, 2);
    const h = (): Tensor => scale(x, 1.5);
    const keep = Float64Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 0 : 1.25));
    const gamma = randn([5], 12, 0.5, 1), beta = randn([5], 13);
    const bn = (t: Tensor): Tensor => batchNormTrain(t, gamma, beta, 1e-5, null, () => {});
    expectGradcheck(() => relu(h()), [x]);
    expectGradcheck(() => applyMask(h(), keep), [x]);
    expectGradcheck(() => bn(h()), [x, gamma, beta]);
    expectGradcheck(() => { const t = h(); return add(relu(t), applyMask(t, keep)); }, [x]);
    expectGradcheck(() => { const t = h(); return mul(bn(t), applyMask(t, keep)); }, [x, gamma, beta]);
    expectGradcheck(() => { const t = h(); return mul(bn(t), relu(bn(t))); }, [x, gamma, beta]);
    expectGradcheck(() => tanh(h()), [x]);
    expectGradcheck(() => { const t = h(); return mul(tanh(t), t); }, [x]);
    expectGradcheck(() => reshape(h(), [5, 6]), [x]);
    expectGradcheck(() => { const t = h(); return add(reshape(t, [30]), reshape(tanh(t), [30])); }, [x]);
  });

  it('linear without input features gives the bias on every row', () => {
    const y = linear(Tensor.zeros([3, 0], 'float64'), Tensor.zeros([2, 0], 'float64'), Tensor.from([5, 7], [2], 'float64'));
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(y.data)).toEqual([5, 7, 5, 7, 5, 7]);
  });

  it('log (positive inputs)', () => {
    const x = randn([4, 5], 6, 0.3, 2);
    expectGradcheck(() => log(x), [x]);
  });

  it('scale', () => {
    const x = randn([3, 2], 7);
    expectGradcheck(() => scale(x, -2.5), [x]);
  });

  it('matmul', () => {
    const a = randn([3, 5], 8);
    const b = randn([5, 4], 9);
    expectGradcheck(() => matmul(a, b), [a, b]);
  });

  it('sum and mean over each axis and over everything, with and without keepDims', () => {
    const x = randn([2, 3, 4], 10);
    for (const axis of [0, 1, 2, -1]) {
      expectGradcheck(() => sum(x, axis), [x]);
      expectGradcheck(() => mean(x, axis, true), [x]);
    }
    expectGradcheck(() => sum(x), [x]);
    expectGradcheck(() => mean(x), [x]);
  });

  it('reshape, transpose (2-D and a 3-D permutation), concat, slice', () => {
    const x = randn([2, 3, 4], 11);
    expectGradcheck(() => reshape(x, [6, -1]), [x]);
    expectGradcheck(() => transpose(x, [2, 0, 1]), [x]);
    const m = randn([3, 5], 12);
    expectGradcheck(() => transpose(m), [m]);
    const y = randn([2, 2, 4], 13);
    expectGradcheck(() => concat([x, y, x], 1), [x, y]);
    expectGradcheck(() => slice(x, 1, 1, 3), [x]);
  });

  it('gather (embedding lookup), with a repeated index accumulating', () => {
    const table = randn([5, 3], 14);
    const idx = Tensor.from([0, 4, 4, 2, 1, 4], [2, 3], 'float64');
    expectGradcheck(() => gather(table, idx), [table]);
  });

  it('softmax and log-softmax over the last axis', () => {
    const x = randn([3, 5], 15, 3);
    expectGradcheck(() => softmax(x), [x]);
    expectGradcheck(() => logSoftmax(x), [x]);
  });

  it('a composite expression that reuses a tensor (accumulation)', () => {
    const a = randn([2, 3], 16);
    const b = randn([3], 17);
    expectGradcheck(() => mul(tanh(add(a, b)), add(a, a)), [a, b]);
  });
});

describe('op values against hand computations', () => {
  it('transpose of a 2x3 matrix', () => {
    expect(transpose(Tensor.from([1, 2, 3, 4, 5, 6], [2, 3])).toArray()).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it('concat along the last axis and slice back', () => {
    const a = Tensor.from([1, 2, 3, 4], [2, 2]);
    const b = Tensor.from([5, 6], [2, 1]);
    const c = concat([a, b], 1);
    expect(c.toArray()).toEqual([1, 2, 5, 3, 4, 6]);
    expect(slice(c, 1, 2, 3).toArray()).toEqual([5, 6]);
  });
  it('softmax of large logits is finite and sums to one', () => {
    const y = softmax(Tensor.from([1000, 1001, 1002], [1, 3], 'float64'));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0] + e[1] + e[2];
    expectClose(y.data, e.map((v) => v / z), 1e-12);
  });
  it('matmul of known matrices', () => {
    const c = matmul(Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]), Tensor.from([7, 8, 9, 10, 11, 12], [3, 2]));
    expect(c.toArray()).toEqual([58, 64, 139, 154]);
  });
  it('GELU is the tanh form PyTorch computes, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))', () => {
    // PyTorch 1.13: torch.nn.functional.gelu(torch.tensor(xs, dtype=torch.float64), approximate='tanh').
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 2];
    const torch = [-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0, 0.34571400982514394, 0.8411919906082768, 1.954597694087775];
    expectClose(gelu(Tensor.from(xs, [7], 'float64')).data, torch, 1e-14);
    // Its tanh is tanh64, which agrees with Math.tanh to about 2.5e-14: the formula with
    // Math.tanh is an independent reference over a sweep through the curved part and the tails.
    const sweep = Array.from({ length: 401 }, (_, i) => -10 + i * 0.05);
    const reference = sweep.map((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))));
    expectClose(gelu(Tensor.from(sweep, [401], 'float64')).data, reference, 1e-13);
    // And its tanh is tanh64 itself, to the bit (Math.tanh differs in the last bits).
    const exact = sweep.map((x) => 0.5 * x * (1 + tanh64(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));
    expect(Array.from(gelu(Tensor.from(sweep, [401], 'float64')).data)).toEqual(exact);
  });
  it('gather rejects an out-of-range index by position', () => {
    expect(() => gather(Tensor.zeros([3, 2]), Tensor.from([0, 3], [2]))).toThrow(/index 3 at position 1 is outside \[0, 3\)/);
  });
});
