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
      const grads = new Float32Array(2), buffers = new Float32Array(2);
      const sum = new GradientSum([0, 1, 2], grads);
      order.forEach((k) => sum.add(parts[k]));
      const reduced = sum.reduceInto(buffers);
      expect(Array.from(grads)).toEqual([4, 6]);
      expect(Array.from(buffers)).toEqual([0.75 * 1 + 0.25 * 5, 0.75 * 1 + 0.25 * 9]);
      // No member reported its CPU time: null, not 0.
      expect(reduced).toEqual({ samples: 40, loss: 4, computeMs: 30, bnWaitMs: 1, workersCpuMs: null });
    }
  });

  it('adds up the members\' CPU time (the slowest one\'s compute time is the step\'s)', () => {
    const member = (workerId: number, computeMs: number, cpuMs: number) => ({
      workerId, samples: 2, loss: 1, grads: new Float32Array(1), buffers: new Float32Array(0), computeMs, bnWaitMs: 0, cpuMs,
    });
    const sum = new GradientSum([0, 1, 2], new Float32Array(1));
    [member(0, 9, 12.5), member(1, 11, 14.25), member(2, 10, 0.5)].forEach((m) => sum.add(m));
    expect(sum.reduceInto(new Float32Array(0))).toMatchObject({ computeMs: 11, workersCpuMs: 27.25 });
    // One member without it: a sum of the others would understate the step's CPU, so none.
    const partial = new GradientSum([0, 1], new Float32Array(1));
    partial.add(member(0, 9, 12.5));
    partial.add({ ...member(1, 9, 0), cpuMs: undefined });
    expect(partial.reduceInto(new Float32Array(0)).workersCpuMs).toBeNull();
  });

  const P = 23;
  /** Worker w's gradient: awkward float32 values, so a different summation order would show. */
  const gradientOf = (w: number) => Float32Array.from({ length: P }, (_, i) => Math.fround(Math.sin(7 * i + w) * 10 ** ((i % 7) - 3)));
  const contribution = (workerId: number, grads: Float32Array) => ({ workerId, samples: 4, loss: 1, grads, buffers: new Float32Array(1), computeMs: 1, bnWaitMs: 0 });
  /** Σ in worker-id order, from whole gradients: the reference. */
  const wholeSum = (ids: number[]): Float32Array => {
    const grads = new Float32Array(P);
    const sum = new GradientSum(ids, grads);
    for (const id of ids) sum.add(contribution(id, gradientOf(id)));
    sum.reduceInto(new Float32Array(1));
    return grads;
  };

  it('sums gradient parts as soon as every member has sent them, to the same bits as whole gradients', () => {
    // Worker 0 splits at 15 and 6, worker 4 at 11; parts interleave with each other and the heads.
    const grads = new Float32Array(P).fill(NaN);
    const sum = new GradientSum([4, 0], grads, 1);
    const g0 = gradientOf(0), g4 = gradientOf(4);
    sum.addPart(0, 15, g0.subarray(15));
    expect(grads.every(Number.isNaN)).toBe(true); // worker 4 has sent nothing yet
    sum.addPart(4, 11, g4.subarray(11));
    // [15, P) is final from both: summed already; [11, 15) waits for worker 0.
    const reference = wholeSum([0, 4]);
    expect(Array.from(grads.subarray(15))).toEqual(Array.from(reference.subarray(15)));
    expect(grads.subarray(0, 15).every(Number.isNaN)).toBe(true);
    sum.addPart(0, 6, g0.subarray(6, 15));
    expect(Array.from(grads.subarray(11))).toEqual(Array.from(reference.subarray(11)));
    expect(sum.add(contribution(0, g0.slice(0, 6)), 2)).toBe(false);
    expect(sum.add(contribution(4, g4.slice(0, 11)), 1)).toBe(true);
    sum.reduceInto(new Float32Array(1));
    expect(Array.from(grads)).toEqual(Array.from(reference));
  });

  it('sums what a whole gradient completes as soon as it arrives', () => {
    const grads = new Float32Array(P).fill(NaN);
    const sum = new GradientSum([0, 1], grads, 1);
    sum.addPart(1, 9, gradientOf(1).subarray(9));
    sum.add(contribution(0, gradientOf(0))); // worker 0 sends no parts: [9, P) is complete now
    const reference = wholeSum([0, 1]);
    expect(Array.from(grads.subarray(9))).toEqual(Array.from(reference.subarray(9)));
    expect(grads.subarray(0, 9).every(Number.isNaN)).toBe(true);
  });

  it('sums many members in id order, rounded to float32 after each add, wherever each one split its gradient', () => {
    // Long enough for the WebAssembly kernel; each member splits elsewhere, so the sum runs over stretches.
    const n = 9000, ids = [7, 2, 5];
    const g = new Map(ids.map((id) => [id, Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(3 * i + id) * 10 ** ((i % 9) - 4)))]));
    const want = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.fround(g.get(2)![i] + g.get(5)![i]) + g.get(7)![i]));
    const grads = new Float32Array(n).fill(NaN);
    const sum = new GradientSum(ids, grads, 1);
    sum.addPart(7, 4000, g.get(7)!.subarray(4000));
    sum.addPart(2, 6500, g.get(2)!.subarray(6500));
    sum.addPart(5, 300, g.get(5)!.subarray(300));
    sum.addPart(2, 1234, g.get(2)!.subarray(1234, 6500));
    sum.add(contribution(2, g.get(2)!.slice(0, 1234)), 2);
    sum.add(contribution(5, g.get(5)!.slice(0, 300)), 1);
    expect(grads.subarray(0, 4000).every(Number.isNaN)).toBe(true); // worker 7 has not sent its head
    sum.add(contribution(7, g.get(7)!.slice(0, 4000)), 1);
    sum.reduceInto(new Float32Array(1));
    expect(new Uint32Array(grads.buffer)).toEqual(new Uint32Array(want.buffer));
  });

  it('refuses parts that do not tile the gradient from the back, and heads that do not fit them', () => {
    const sum = new GradientSum([1, 2], new Float32Array(P), 1);
    const g = gradientOf(1);
    expect(() => sum.addPart(1, 10, g.subarray(10, 20))).toThrow('worker 1 sent gradient part [10, 20); the next part must end at 23');
    expect(() => sum.addPart(1, 23, g.subarray(23))).toThrow('worker 1 sent gradient part [23, 23); the next part must end at 23');
    expect(() => sum.addPart(3, 10, g.subarray(10))).toThrow('worker 3 is not part of this step');
    sum.addPart(1, 10, g.subarray(10));
    expect(() => sum.addPart(1, 2, g.subarray(2, 9))).toThrow('worker 1 sent gradient part [2, 9); the next part must end at 10');
    expect(() => sum.add(contribution(1, g.slice(0, 10)), 0)).toThrow("worker 1's gradient says 0 parts came first, 1 did");
    expect(() => sum.add(contribution(1, g.slice(0, 9)), 1)).toThrow("worker 1's gradient has 9 values, its parts left 10");
    expect(() => sum.add(contribution(2, g.slice(0, 10)))).toThrow("worker 2's gradient has 10 values, its parts left 23");
    sum.add(contribution(1, g.slice(0, 10)), 1);
    expect(() => sum.addPart(1, 0, g.subarray(0, 10))).toThrow('worker 1 sent a gradient part after its gradient');
  });
});
