import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { buildModel } from '../src/model/model.js';
import { DEFAULT_MNIST_SPEC } from '../src/model/spec.js';
import { computeGradients } from '../src/train/step.js';
import { makeRandom } from './helpers.js';

describe('models from JSON specs', () => {
  it('lays out the default model with PyTorch nn.Sequential names and shapes in one flat buffer', () => {
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 0 });
    expect(model.paramLayout.map((e) => `${e.name}:${e.shape.join('x')}`)).toEqual([
      '0.weight:512x784', '1.weight:512', '1.bias:512',
      '4.weight:256x512', '5.weight:256', '5.bias:256',
      '8.weight:10x256', '8.bias:10',
    ]);
    expect(model.bufferLayout.map((e) => e.name)).toEqual(['1.running_mean', '1.running_var', '5.running_mean', '5.running_var']);
    expect(model.parameterCount).toBe(784 * 512 + 2 * 512 + 512 * 256 + 2 * 256 + 256 * 10 + 10);
    const last = model.paramLayout[model.paramLayout.length - 1];
    expect(last.offset + last.size).toBe(model.params.length);
    expect(model.outputShape).toEqual([10]);
  });

  it('initialises as PyTorch: Linear U(±1/√fan_in), BatchNorm γ = 1, β = 0, running var 1', () => {
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 3 });
    const w = model.params.subarray(0, 512 * 784);
    const bound = 1 / Math.sqrt(784);
    let maxAbs = 0, sumSq = 0;
    for (const v of w) { maxAbs = Math.max(maxAbs, Math.abs(v)); sumSq += v * v; }
    expect(maxAbs).toBeLessThanOrEqual(bound);
    // Variance of U(±b) is b²/3.
    expect(sumSq / w.length).toBeCloseTo((bound * bound) / 3, 5);
    const gamma = model.paramLayout[1];
    expect(Array.from(model.params.subarray(gamma.offset, gamma.offset + gamma.size)).every((v) => v === 1)).toBe(true);
    expect(model.buffers[512]).toBe(1);
  });

  it('same seed, same weights; different seed, different weights', () => {
    const a = buildModel(DEFAULT_MNIST_SPEC, { seed: 1 });
    const b = buildModel(DEFAULT_MNIST_SPEC, { seed: 1 });
    const c = buildModel(DEFAULT_MNIST_SPEC, { seed: 2 });
    expect(a.params).toEqual(b.params);
    expect(a.params[0]).not.toBe(c.params[0]);
  });

  it('other initialisers have the variance of their formula', () => {
    const spec = (init: string) => ({ input: [400], layers: [{ type: 'linear', out: 300, init, bias: false }] });
    const variance = (init: string): number => {
      const p = buildModel(spec(init), { seed: 9 }).params;
      return p.reduce((s, v) => s + v * v, 0) / p.length;
    };
    expect(variance('xavier_uniform')).toBeCloseTo(2 / 700, 4);
    expect(variance('xavier_normal')).toBeCloseTo(2 / 700, 4);
    expect(variance('kaiming_normal')).toBeCloseTo(2 / 400, 4);
    expect(variance('zeros')).toBe(0);
  });

  it('names nested containers as PyTorch would', () => {
    const model = buildModel({ input: [4], layers: [{ type: 'residual', layers: [{ type: 'linear', out: 4 }] }, { type: 'highway' }] });
    expect(model.paramLayout.map((e) => e.name)).toEqual([
      '0.fn.0.weight', '0.fn.0.bias', '1.transform.weight', '1.transform.bias', '1.gate.weight', '1.gate.bias',
    ]);
  });

  it('errors name the layer index and the problem', () => {
    expect(() => buildModel({ input: [4], layers: [{ type: 'linear', out: 3 }, { type: 'convolution' }] }))
      .toThrow(/layers\[1\] \(convolution\): unknown layer type \(expected one of linear, batchnorm/);
    expect(() => buildModel({ input: [4], layers: [{ type: 'linear', out: -3 }] }))
      .toThrow(/layers\[0\] \(linear\): "out" must be a positive integer, got -3/);
    expect(() => buildModel({ input: [4], layers: [{ type: 'residual', layers: [{ type: 'linear', out: 3 }] }] }))
      .toThrow(/layers\[0\] \(residual\): its layers map \[4\] to \[3\]/);
    expect(() => buildModel({ input: [5, 3], layers: [{ type: 'flatten_consecutive', n: 2 }] }))
      .toThrow(/layers\[0\] \(flatten_consecutive\): needs per-sample shape \[T, C\] with T divisible by 2, got \[5, 3\]/);
    expect(() => buildModel({ input: [4], layers: [{ type: 'dropout', p: 1.5 }] })).toThrow(/layers\[0\] \(dropout\): "p" must be in \[0, 1\)/);
    expect(() => buildModel({ layers: [] })).toThrow(/"input" must be a non-empty array/);
  });

  it('can live in given flat buffers (shared memory) and re-point its gradients without copying', () => {
    const reference = buildModel(DEFAULT_MNIST_SPEC, { seed: 4 });
    const shared = new Float32Array(new SharedArrayBuffer(4 * reference.params.length));
    shared.set(reference.params);
    const replica = buildModel(DEFAULT_MNIST_SPEC, { seed: 99, storage: { params: shared } });
    expect(replica.params).toBe(shared);
    expect(Array.from(replica.params.subarray(0, 5))).toEqual(Array.from(reference.params.subarray(0, 5)));
    const slot = new Float32Array(reference.params.length);
    replica.bindStorage({ grads: slot });
    const bias = replica.paramLayout[2];
    (replica.root.layers[1] as unknown as { bias: { grad: Float32Array } }).bias.grad[0] = 7;
    expect(slot[bias.offset]).toBe(7);
    expect(() => replica.bindStorage({ grads: new Float32Array(3) })).toThrow(/grads has 3 elements, the model needs 536586/);
  });

  it('gradients accumulate across backward passes: the first stores into zeroed gradients, later ones add', () => {
    // Linear's backward stores into a gradient Model.zeroGrad left at zeros instead of adding
    // (sparing a copy); a second pass without zeroGrad must still add. Two shards' passes
    // into one gradient equal the sum of the shards' separate gradients.
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 4 });
    const rand = makeRandom(8);
    const batch = (rows: number): [Tensor, Int32Array] => [
      new Tensor(Float32Array.from({ length: rows * 784 }, () => rand()), [rows, 784]),
      Int32Array.from({ length: rows }, () => Math.floor(rand() * 10)),
    ];
    const [xa, ya] = batch(24), [xb, yb] = batch(40);
    const ctx = { seed: 1, step: 0, rowOffset: 0 };
    const gradientOf = (passes: Array<[Tensor, Int32Array]>): Float32Array => {
      model.zeroGrad();
      expect(model.paramTensor(0).gradIsZero()).toBe(true);
      for (const [x, y] of passes) computeGradients(model, x, y, ctx, { globalBatch: 64 });
      expect(model.paramTensor(0).gradIsZero()).toBe(false);
      return Float32Array.from(model.grads);
    };
    const a = gradientOf([[xa, ya]]), b = gradientOf([[xb, yb]]), both = gradientOf([[xa, ya], [xb, yb]]);
    let worst = 0;
    for (let i = 0; i < both.length; i++) worst = Math.max(worst, Math.abs(both[i] - (a[i] + b[i])) / (Math.abs(a[i]) + Math.abs(b[i]) + 1e-12));
    expect(worst).toBeLessThan(1e-6);
    expect(Math.abs(both[0] - a[0])).toBeGreaterThan(0); // b contributes to the first weight

    // A gradient buffer bound after zeroGrad (as a worker thread binds its slot) is not
    // known to be zero: the pass must add to what it holds.
    model.zeroGrad();
    const held = Float32Array.from(a);
    model.bindStorage({ grads: held });
    computeGradients(model, xa, ya, ctx, { globalBatch: 64 });
    for (let i = 0; i < held.length; i++) expect(Math.abs(held[i] - 2 * a[i]), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.abs(a[i]) + 1e-12);
  });
});
