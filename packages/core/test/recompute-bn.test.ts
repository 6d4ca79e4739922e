import { describe, expect, it } from 'vitest';
import { Tensor, noGrad } from '../src/autodiff/tensor.js';
import { buildModel } from '../src/model/model.js';
import { recomputeBatchNormStatistics } from '../src/train/recompute-bn.js';
import { CounterRng } from '../src/rng.js';

describe('recomputeBatchNormStatistics', () => {
  it('sets each layer to the mean and unbiased variance of its eval-mode inputs over the data', () => {
    const spec = { input: [3], layers: [
      { type: 'linear', out: 4 }, { type: 'batchnorm' }, { type: 'tanh' }, { type: 'dropout', p: 0.5 }, { type: 'linear', out: 2 }, { type: 'batchnorm' },
    ] };
    const model = buildModel(spec, { seed: 2 });
    const n = 37;
    const rng = new CounterRng(5);
    const inputs = Float32Array.from({ length: n * 3 }, (_, i) => 3 + 2 * rng.normal([0, 0], i));
    recomputeBatchNormStatistics(model, { inputs, inputShape: [3], labels: new Int32Array(n), count: n, numClasses: 2 }, 10);

    // Independent reference: run the layers by hand, in float64, one sample at a time.
    const layers = model.root.layers;
    const columnStats = (rows: number[][]) => rows[0].map((_, j) => {
      const col = rows.map((r) => r[j]);
      const m = col.reduce((a, b) => a + b) / col.length;
      return { mean: m, variance: col.reduce((a, b) => a + (b - m) ** 2, 0) / (col.length - 1) };
    });
    const apply = (i: number, rows: number[][]) => rows.map((r) => Array.from(noGrad(() => layers[i].forward(Tensor.from(r, [1, r.length]), { seed: 0, step: 0, rowOffset: 0 })).data));
    model.eval();
    let h = Array.from({ length: n }, (_, s) => Array.from(inputs.subarray(s * 3, s * 3 + 3)));
    h = apply(0, h);
    const first = columnStats(h);
    const bn1 = model.buffers.subarray(0, 8);
    first.forEach((s, j) => { expect(bn1[j]).toBeCloseTo(s.mean, 5); expect(bn1[4 + j]).toBeCloseTo(s.variance, 4); });
    for (const i of [1, 2, 3, 4]) h = apply(i, h);
    const second = columnStats(h);
    const bn2 = model.buffers.subarray(8, 12);
    second.forEach((s, j) => { expect(bn2[j]).toBeCloseTo(s.mean, 5); expect(bn2[2 + j]).toBeCloseTo(s.variance, 4); });
  });
});
