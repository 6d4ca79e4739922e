import { describe, expect, it } from 'vitest';
import { averageParameters } from '../src/eval/average.js';
import { averageProbabilities, probabilityMetrics } from '../src/eval/metrics.js';
import { predictProbabilities } from '../src/eval/predict.js';
import { buildModel } from '../src/model/model.js';
import { expectClose } from './helpers.js';

const spec = { input: [2], layers: [{ type: 'linear', out: 3 }] };

describe('ensembles average predicted probabilities', () => {
  it('equal a hand computation on a tiny model', () => {
    const a = buildModel(spec), b = buildModel(spec);
    // W [3, 2] then bias [3]: logits = W·x + b.
    a.params.set([1, 0, 0, 1, 0, 0, 0, 0, 0]);
    b.params.set([0, 0, 0, 0, 1, 1, 0.5, 0, 0]);
    const data = { inputs: Float32Array.from([1, 2]), inputShape: [2], labels: Int32Array.from([2]), count: 1, numClasses: 3 };
    const softmax = (z: number[]) => { const e = z.map(Math.exp); const s = e.reduce((x, y) => x + y); return e.map((v) => v / s); };
    const pa = softmax([1, 2, 0]), pb = softmax([0.5, 0, 3]);
    const ensemble = averageProbabilities([predictProbabilities(a, data), predictProbabilities(b, data)], new Float64Array(3));
    expectClose(ensemble, pa.map((v, i) => (v + pb[i]) / 2), 1e-6);
    const m = probabilityMetrics(ensemble, data.labels, 3);
    expect(m.accuracy).toBe(1);
    expect(m.nll).toBeCloseTo(-Math.log((pa[2] + pb[2]) / 2), 6);
  });
});

describe('probabilityMetrics', () => {
  it('ECE by hand: two bins, over- and under-confident', () => {
    // Rows: conf 0.9 correct, 0.9 wrong (bin 13 of 15: acc 0.5, conf 0.9), 0.6 correct (bin 9: acc 1, conf 0.6).
    const probs = [0.9, 0.1, 0.9, 0.1, 0.4, 0.6];
    const m = probabilityMetrics(probs, [0, 1, 1], 2);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.ece).toBeCloseTo((2 / 3) * Math.abs(0.5 - 0.9) + (1 / 3) * Math.abs(1 - 0.6), 12);
    expect(m.nll).toBeCloseTo(-(Math.log(0.9) + Math.log(0.1) + Math.log(0.6)) / 3, 12);
  });
});

describe('averageParameters', () => {
  it('of identical checkpoints returns the same weights; of two, their midpoint', () => {
    const w = buildModel({ input: [5], layers: [{ type: 'linear', out: 4 }] }, { seed: 1 }).params;
    const out = new Float32Array(w.length);
    averageParameters([w, w, w], out);
    expect(Array.from(out)).toEqual(Array.from(w));
    const v = Float32Array.from(w, (x) => x + 1);
    averageParameters([w, v], out);
    expectClose(out, Array.from(w, (x) => x + 0.5), 1e-7);
    expect(() => averageParameters([w, new Float32Array(3)], out)).toThrow(/has 3 elements, expected 24/);
  });
});
