import { describe, expect, it } from 'vitest';
import { Tensor, noGrad } from '../src/autodiff/tensor.js';
import { buildModel } from '../src/model/model.js';
import type { LayerSpec } from '../src/model/spec.js';
import { defaultContext, type ForwardContext } from '../src/nn/module.js';
import { expectClose, expectGradcheck, randn } from './helpers.js';

const ctx: ForwardContext = defaultContext({ seed: 3, step: 5, rowOffset: 2 });

/** A float64 model of `layers` on per-sample `input`, and its parameter tensors. */
function model64(input: number[], layers: LayerSpec[], seed = 1) {
  const model = buildModel({ input, layers }, { seed, dtype: 'float64' });
  const params = model.paramLayout.map(({ offset, size, shape }) => {
    const t = new Tensor(model.params.subarray(offset, offset + size), shape, true);
    t.grad = model.grads.subarray(offset, offset + size);
    return t;
  });
  return { model, params };
}

/** Gradcheck a model's input and every parameter at once. */
function checkLayers(input: number[], layers: LayerSpec[], batch = 4, train = true): void {
  const { model, params } = model64(input, layers);
  model.train(train);
  const x = randn([batch, ...input], 11);
  expectGradcheck(() => model.forward(x, ctx), [x, ...params]);
}

describe('layer gradient checks (float64, input and every parameter)', () => {
  it('Linear with and without bias, on [N, C] and [N, T, C]', () => {
    checkLayers([5], [{ type: 'linear', out: 3 }]);
    checkLayers([5], [{ type: 'linear', out: 3, bias: false }]);
    checkLayers([2, 5], [{ type: 'linear', out: 3 }]);
  });
  it('BatchNorm in training mode (batch statistics) on [N, C] and [N, T, C]', () => {
    // A linear first, so γ and β are not at their trivial initial values' symmetry.
    checkLayers([4], [{ type: 'linear', out: 3 }, { type: 'batchnorm' }, { type: 'tanh' }], 6);
    checkLayers([3, 4], [{ type: 'batchnorm' }, { type: 'linear', out: 2 }], 3);
  });
  it('BatchNorm in eval mode (running statistics)', () => {
    checkLayers([4], [{ type: 'batchnorm' }, { type: 'linear', out: 2 }], 4, false);
  });
  it('LayerNorm', () => {
    checkLayers([6], [{ type: 'layernorm' }, { type: 'linear', out: 2 }]);
  });
  it('Dropout with its fixed (seeded) mask', () => {
    checkLayers([6], [{ type: 'dropout', p: 0.4 }, { type: 'linear', out: 2 }]);
  });
  it('activations as layers', () => {
    for (const type of ['relu', 'gelu', 'tanh', 'sigmoid']) checkLayers([5], [{ type: 'linear', out: 4 }, { type }]);
  });
  it('Residual and Highway', () => {
    checkLayers([4], [{ type: 'residual', layers: [{ type: 'linear', out: 4 }, { type: 'tanh' }] }]);
    checkLayers([4], [{ type: 'highway', activation: 'tanh' }]);
  });
  it('Embedding → FlattenConsecutive → Linear → BatchNorm (the WaveNet block)', () => {
    const { model, params } = model64([4], [
      { type: 'embedding', vocab: 6, dim: 3 },
      { type: 'flatten_consecutive', n: 2 },
      { type: 'linear', out: 5 },
      { type: 'batchnorm' },
      { type: 'tanh' },
      { type: 'flatten_consecutive', n: 2 },
      { type: 'linear', out: 3 },
    ]);
    const idx = Tensor.from([0, 1, 2, 3, 5, 5, 4, 0, 2, 2, 1, 3], [3, 4], 'float64');
    expect(model.outputShape).toEqual([3]);
    expectGradcheck(() => model.forward(idx, ctx), params);
  });
});

describe('layer values against the formulas', () => {
  it('BatchNorm normalises with the biased batch variance and updates running stats with the unbiased one', () => {
    const { model } = model64([2], [{ type: 'batchnorm' }]);
    const x = Tensor.from([1, 10, 2, 20, 6, 60], [3, 2], 'float64');
    const y = model.forward(x, ctx);
    // channel 0: mean 3, biased var ((−2)² + (−1)² + 3²)/3 = 14/3, unbiased 7.
    const inv = 1 / Math.sqrt(14 / 3 + 1e-5);
    expectClose([y.data[0], y.data[2], y.data[4]], [-2 * inv, -1 * inv, 3 * inv], 1e-12);
    const [rm, rv] = [model.buffers.subarray(0, 2), model.buffers.subarray(2, 4)];
    expectClose(rm, [0.1 * 3, 0.1 * 30], 1e-12);
    expectClose(rv, [0.9 + 0.1 * 7, 0.9 + 0.1 * 700], 1e-12);
    model.eval();
    const z = model.forward(Tensor.from([3, 30], [1, 2], 'float64'), ctx);
    expectClose(z.data, [(3 - 0.3) / Math.sqrt(1.6 + 1e-5), (30 - 3) / Math.sqrt(70.9 + 1e-5)], 1e-12);
  });

  it('BatchNorm statistics do not cancel for data with a large mean (float32 input)', () => {
    const { model } = model64([1], [{ type: 'batchnorm', momentum: 1 }]);
    const n = 1000;
    const x = Tensor.zeros([n, 1], 'float32');
    for (let i = 0; i < n; i++) x.data[i] = 10000 + (i % 2 === 0 ? 0.5 : -0.5);
    model.forward(x, ctx);
    // Unbiased variance of ±0.5 around the mean: 0.25·n/(n − 1).
    expectClose([model.buffers[1]], [(0.25 * n) / (n - 1)], 1e-9);
  });

  it('LayerNorm rows have mean 0 and variance 1 before the affine part', () => {
    const { model } = model64([4], [{ type: 'layernorm' }]);
    const y = model.forward(Tensor.from([1, 2, 3, 10, -1, -1, -1, 5], [2, 4], 'float64'), ctx);
    for (const r of [0, 1]) {
      const row = y.data.subarray(r * 4, r * 4 + 4);
      const m = row.reduce((a, b) => a + b) / 4;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(v).toBeCloseTo(1, 5);
    }
  });

  it('Dropout keeps ≈ 1 − p, scales kept values by 1/(1 − p), and is the identity in eval', () => {
    const { model } = model64([1000], [{ type: 'dropout', p: 0.25 }]);
    const x = Tensor.zeros([4, 1000], 'float64');
    x.data.fill(1);
    const y = model.forward(x, ctx);
    const kept = y.data.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-12)).toBe(true);
    expect(kept.length / y.size).toBeGreaterThan(0.72);
    expect(kept.length / y.size).toBeLessThan(0.78);
    model.eval();
    expect(model.forward(x, ctx).toArray()).toEqual(x.toArray());
  });

  it('Dropout masks depend on the global row, not the shard: rows 2..3 alone equal rows 2..3 of the whole batch', () => {
    const { model } = model64([50], [{ type: 'dropout', p: 0.5 }]);
    const x = Tensor.zeros([4, 50], 'float64');
    x.data.fill(1);
    const whole = model.forward(x, { ...ctx, rowOffset: 0 });
    const shard = model.forward(Tensor.from(x.data.subarray(100), [2, 50], 'float64'), { ...ctx, rowOffset: 2 });
    expect(Array.from(shard.data)).toEqual(Array.from(whole.data.subarray(100)));
    const nextStep = model.forward(x, { ...ctx, rowOffset: 0, step: ctx.step + 1 });
    expect(Array.from(nextStep.data)).not.toEqual(Array.from(whole.data));
  });

  it('Highway with a zero transform and a very negative gate carries its input', () => {
    const { model } = model64([3], [{ type: 'highway', gate_bias: -50 }]);
    const x = Tensor.from([0.5, -2, 3], [1, 3], 'float64');
    expectClose(noGrad(() => model.forward(x, ctx)).data, [0.5, -2, 3], 1e-12);
  });

  it('FlattenConsecutive groups consecutive time steps', () => {
    const { model } = model64([4, 2], [{ type: 'flatten_consecutive', n: 2 }]);
    const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8], [1, 4, 2], 'float64');
    const y = model.forward(x, ctx);
    expect(y.shape).toEqual([1, 2, 4]);
    expect(y.toArray()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
