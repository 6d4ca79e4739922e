import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { buildModel, type Model } from '../src/model/model.js';
import { DEFAULT_MNIST_SPEC, type ModelSpec } from '../src/model/spec.js';
import { BatchNorm } from '../src/nn/layers/batchnorm.js';
import { computeGradients } from '../src/train/step.js';
import { GradientReadiness } from '../src/train/gradient-readiness.js';
import { CounterRng } from '../src/rng.js';
import { add, mul, sum, tanh } from '../src/ops/index.js';
import { randn } from './helpers.js';

function batch(model: Model, n: number, seed: number): { x: Tensor; labels: Int32Array } {
  const features = model.spec.input.reduce((a, b) => a * b, 1);
  const rng = new CounterRng(seed);
  const x = new Tensor(Float32Array.from({ length: n * features }, (_, i) => rng.normal([1, 1], i)), model.batchShape(n));
  const labels = Int32Array.from({ length: n }, (_, i) => i % model.outputShape[0]);
  return { x, labels };
}

/** A SyncBN reducer of one shard (the statistics are already global) that records what is final at each backward barrier. */
function recordingReducer(readiness: GradientReadiness, model: Model, seen: Array<{ layer: number; readyFrom: number; suffix: Float32Array }>) {
  return (layer: number) => ({
    reduceStatistics: (count: number) => count,
    reduceGradients: () => { seen.push({ layer, readyFrom: readiness.readyFrom, suffix: Float32Array.from(model.grads.subarray(readiness.readyFrom)) }); },
  });
}

describe('Tensor.backward onLeafReady', () => {
  it('fires after the last reader of a leaf, not the first: a weight read early and late in the graph', () => {
    const w = randn([4], 1);
    const x = randn([4], 2);
    // w feeds the first op and, through tanh, the last one: backward reaches the last op's
    // use of w first, and w is not final until the first op has run too.
    const h = mul(w, x);
    const y = sum(add(mul(tanh(h), w), h));
    const events: Array<{ leaf: Tensor; grad: number[] }> = [];
    y.backward(undefined, { onLeafReady: (leaf) => events.push({ leaf, grad: Array.from(leaf.grad!) }) });
    expect(events.map((e) => e.leaf)).toEqual(expect.arrayContaining([w, x]));
    expect(events).toHaveLength(2);
    for (const e of events) expect(e.grad).toEqual(Array.from(e.leaf.grad!));
    // ∂y/∂w = tanh(wx) + (1 − tanh²(wx))·x·w + x, elementwise.
    for (let i = 0; i < 4; i++) {
      const wi = w.data[i], xi = x.data[i], t = Math.tanh(wi * xi);
      expect(w.grad![i]).toBeCloseTo(t + (1 - t * t) * xi * wi + xi, 12);
    }
  });
});

describe('GradientReadiness: the final suffix of the flat gradient during backward', () => {
  it('at each backward SyncBN barrier of the default model, everything after that BatchNorm is final', () => {
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 1 });
    const readiness = new GradientReadiness(model);
    const seen: Array<{ layer: number; readyFrom: number; suffix: Float32Array }> = [];
    const { x, labels } = batch(model, 16, 2);
    model.zeroGrad();
    readiness.reset();
    computeGradients(model, x, labels, { seed: 3, step: 0, rowOffset: 0, batchNormReducer: recordingReducer(readiness, model, seen) }, { onLeafReady: readiness.onLeafReady });
    const offsetOf = (name: string): number => model.paramLayout.find((e) => e.name === name)!.offset;
    const bn = model.modules.filter((m) => m instanceof BatchNorm).map((m) => m.id);
    // Backward meets the second BatchNorm (5) first: only the output layer (8) is done; then
    // the first (1): layers 4 to 8 are done, BatchNorm 5's γ and β included.
    expect(seen.map((s) => [s.layer, s.readyFrom])).toEqual([[bn[1], offsetOf('8.weight')], [bn[0], offsetOf('4.weight')]]);
    // What was final then is what the whole pass ends with, bit for bit.
    for (const s of seen) expect(s.suffix).toEqual(model.grads.subarray(s.readyFrom));
    expect(readiness.readyFrom).toBe(0);
    // A second pass starts over.
    readiness.reset();
    expect(readiness.readyFrom).toBe(model.params.length);
  });

  it('reports every parameter once, and only when its gradient is final, through residual and highway branches', () => {
    const spec: ModelSpec = {
      input: [6],
      layers: [
        { type: 'linear', out: 8 },
        { type: 'residual', layers: [{ type: 'linear', out: 8 }, { type: 'batchnorm' }, { type: 'tanh' }, { type: 'linear', out: 8 }] },
        { type: 'highway', activation: 'relu' },
        { type: 'layernorm' },
        { type: 'linear', out: 3 },
      ],
    };
    const model = buildModel(spec, { seed: 4 });
    const { x, labels } = batch(model, 5, 7);
    const snapshots = new Map<Tensor, Float32Array>();
    model.zeroGrad();
    computeGradients(model, x, labels, { seed: 1, step: 0, rowOffset: 0 }, {
      onLeafReady: (leaf) => {
        expect(snapshots.has(leaf)).toBe(false);
        snapshots.set(leaf, Float32Array.from(leaf.grad!));
      },
    });
    expect(snapshots.size).toBe(model.paramLayout.length);
    model.paramLayout.forEach((entry, i) => {
      const leaf = model.paramTensor(i);
      expect(snapshots.get(leaf), entry.name).toEqual(model.grads.subarray(entry.offset, entry.offset + entry.size));
    });
  });
});
