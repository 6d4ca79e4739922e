import { channelMoments } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { BatchNormReduction } from '../src/bn-reduction.js';
import { GradientSum } from '../src/gradient-sum.js';

/** (count, mean, M2) of rows [start, end) of a [rows, c] matrix. */
function moments(x: Float64Array, c: number, start: number, end: number) {
  const mean = new Float64Array(c), m2 = new Float64Array(c);
  channelMoments(x.subarray(start * c, end * c), end - start, c, mean, m2);
  return { count: end - start, mean, m2 };
}

describe('BatchNormReduction', () => {
  it('forward: merged worker statistics equal the whole batch, whatever order they arrive in', () => {
    const c = 2, rows = 9;
    const x = Float64Array.from({ length: rows * c }, (_, i) => 50 + Math.cos(i) * (1 + (i % 3)));
    const whole = moments(x, c, 0, rows);
    const shards = [[0, 4], [4, 4], [4, 9]].map(([s, e], workerId) => ({ workerId, ...moments(x, c, s, e) }));
    for (const order of [[0, 1, 2], [2, 0, 1]]) {
      const r = new BatchNormReduction('forward', c, [0, 1, 2]);
      const done = order.map((k) => r.add({ workerId: shards[k].workerId, count: shards[k].count, a: shards[k].mean, b: shards[k].m2 }));
      expect(done).toEqual([false, false, true]);
      const out = r.result();
      expect(out.count).toBe(rows);
      for (let j = 0; j < c; j++) {
        expect(out.a[j]).toBeCloseTo(whole.mean[j], 12);
        expect(out.b[j]).toBeCloseTo(whole.m2[j], 9);
      }
    }
  });
  it('backward: sums (Σdy, Σdy·x̂); refuses strangers, duplicates and wrong widths', () => {
    const r = new BatchNormReduction('backward', 2, [3, 5]);
    r.add({ workerId: 5, count: 0, a: Float64Array.from([1, 2]), b: Float64Array.from([3, 4]) });
    expect(() => r.add({ workerId: 5, count: 0, a: new Float64Array(2), b: new Float64Array(2) })).toThrow(/twice/);
    expect(() => r.add({ workerId: 4, count: 0, a: new Float64Array(2), b: new Float64Array(2) })).toThrow(/not part of this step/);
    expect(() => r.add({ workerId: 3, count: 0, a: new Float64Array(3), b: new Float64Array(3) })).toThrow(/3 channels, the layer has 2/);
    r.add({ workerId: 3, count: 0, a: Float64Array.from([10, 20]), b: Float64Array.from([30, 40]) });
    expect(Array.from(r.result().a)).toEqual([11, 22]);
    expect(Array.from(r.result().b)).toEqual([33, 44]);
  });
});

describe('GradientSum', () => {
  it('sums gradients and averages buffers weighted by samples, independent of arrival order', () => {
    const contribution = (workerId: number, samples: number, g: number[], b: number[]) => ({
      workerId, samples, loss: samples / 10, grads: Float32Array.from(g), buffers: Float32Array.from(b), computeMs: samples, bnWaitMs: 1,
    });
    const parts = [contribution(0, 30, [1, 2], [1, 1]), contribution(1, 10, [3, 4], [5, 9]), contribution(2, 0, [0, 0], [100, 100])];
    for (const order of [[0, 1, 2], [2, 1, 0]]) {
      const sum = new GradientSum([0, 1, 2]);
      order.forEach((k) => sum.add(parts[k]));
      const grads = new Float32Array(2), buffers = new Float32Array(2);
      const reduced = sum.reduceInto(grads, buffers);
      expect(Array.from(grads)).toEqual([4, 6]);
      expect(Array.from(buffers)).toEqual([0.75 * 1 + 0.25 * 5, 0.75 * 1 + 0.25 * 9]);
      expect(reduced).toEqual({ samples: 40, loss: 4, computeMs: 30, bnWaitMs: 1 });
    }
  });
});
