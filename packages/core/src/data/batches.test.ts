import { describe, expect, it } from 'vitest';
import { CounterRng, RngPurpose } from '../rng.js';
import { BatchPlan, batchRange, batchesPerEpoch, epochOrder, gatherBatch, shardRanges } from './batches.js';
import type { Dataset } from './dataset.js';

describe('epoch order and batches', () => {
  it('is the documented permutation of (seed, [shuffle, epoch])', () => {
    expect(Array.from(epochOrder(7, 2, 50))).toEqual(Array.from(new CounterRng(7).permutation(50, [RngPurpose.shuffle, 2])));
  });

  it('visits every sample exactly once per epoch, keeping the last partial batch', () => {
    const plan = new BatchPlan({ seed: 1, count: 103, batchSize: 10 });
    expect(plan.batchesPerEpoch).toBe(11);
    for (const epoch of [0, 1, 5]) {
      const seen = new Array<number>(103).fill(0);
      const sizes: number[] = [];
      for (let b = 0; b < plan.batchesPerEpoch; b++) {
        const batch = plan.batch(epoch, b);
        sizes.push(batch.length);
        for (const i of batch) seen[i]++;
      }
      expect(seen.every((n) => n === 1)).toBe(true);
      expect(sizes).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    }
  });

  it('can drop the last partial batch', () => {
    const plan = new BatchPlan({ seed: 1, count: 103, batchSize: 10, dropLast: true });
    expect(plan.batchesPerEpoch).toBe(10);
    const seen = new Set<number>();
    for (let b = 0; b < 10; b++) for (const i of plan.batch(0, b)) seen.add(i);
    expect(seen.size).toBe(100);
    expect(() => plan.batch(0, 10)).toThrow('batch 10 out of range: an epoch has 10 batches');
    expect(batchesPerEpoch(100, 10, true)).toBe(10);
    expect(batchesPerEpoch(0, 10)).toBe(0);
    expect(batchRange(10, 103, 10)).toEqual({ start: 100, end: 103 });
  });

  it('differs between epochs and seeds, and repeats for the same seed', () => {
    const a = Array.from(epochOrder(42, 0, 1000));
    expect(Array.from(epochOrder(42, 0, 1000))).toEqual(a);
    expect(Array.from(new BatchPlan({ seed: 42, count: 1000, batchSize: 32 }).batch(0, 0))).toEqual(a.slice(0, 32));
    expect(Array.from(epochOrder(42, 1, 1000))).not.toEqual(a);
    expect(Array.from(epochOrder(43, 0, 1000))).not.toEqual(a);
    expect(a).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('shardRanges', () => {
  it('splits in proportion to the weights, contiguously and exactly', () => {
    expect(shardRanges(10, [1, 1])).toEqual([{ start: 0, end: 5 }, { start: 5, end: 10 }]);
    expect(shardRanges(8, [2, 1, 1])).toEqual([{ start: 0, end: 4 }, { start: 4, end: 6 }, { start: 6, end: 8 }]);
    expect(shardRanges(8, [0, 3, 0, 1])).toEqual([{ start: 0, end: 0 }, { start: 0, end: 6 }, { start: 6, end: 6 }, { start: 6, end: 8 }]);
    expect(shardRanges(0, [1, 2])).toEqual([{ start: 0, end: 0 }, { start: 0, end: 0 }]);
  });

  it('covers any batch with sizes within 1 of the exact share', () => {
    const rng = new CounterRng(3);
    for (let trial = 0; trial < 500; trial++) {
      const batchSize = Math.floor(rng.uniform([9, 0], trial) * 300);
      const n = 1 + Math.floor(rng.uniform([9, 1], trial) * 9);
      const weights = Array.from({ length: n }, (_, k) => Math.floor(rng.uniform([9, 2], trial * 16 + k) * 5));
      if (!weights.some((w) => w > 0)) weights[0] = 1;
      const total = weights.reduce((a, b) => a + b, 0);
      const ranges = shardRanges(batchSize, weights);
      expect(ranges.length).toBe(n);
      let pos = 0;
      ranges.forEach((r, k) => {
        expect(r.start).toBe(pos);
        expect(r.end).toBeGreaterThanOrEqual(r.start);
        expect(Math.abs(r.end - r.start - (batchSize * weights[k]!) / total)).toBeLessThanOrEqual(1);
        if (weights[k] === 0) expect(r.end).toBe(r.start);
        pos = r.end;
      });
      expect(pos).toBe(batchSize);
    }
  });

  it('rejects bad weights', () => {
    expect(() => shardRanges(4, [0, 0])).toThrow('shard weights sum to 0');
    expect(() => shardRanges(4, [1, -1])).toThrow('Invalid shard weight: -1');
    expect(() => shardRanges(4, [])).toThrow('at least one weight');
  });
});

describe('gatherBatch', () => {
  const dataset: Dataset = {
    inputs: Float32Array.from({ length: 15 }, (_, i) => i),
    inputShape: [3],
    labels: Int32Array.from([10, 11, 12, 13, 14]),
    count: 5,
    numClasses: 15,
  };

  it('copies the selected samples into the front of preallocated buffers', () => {
    const inputs = new Float32Array(12).fill(-1);
    const labels = new Int32Array(4).fill(-1);
    gatherBatch(dataset, Int32Array.from([4, 0, 2]), inputs, labels);
    expect(Array.from(inputs)).toEqual([12, 13, 14, 0, 1, 2, 6, 7, 8, -1, -1, -1]);
    expect(Array.from(labels)).toEqual([14, 10, 12, -1]);
  });

  it('rejects buffers that are too small and indices out of range', () => {
    expect(() => gatherBatch(dataset, [0, 1], new Float32Array(5), new Int32Array(2))).toThrow('2 samples need 6 inputs');
    expect(() => gatherBatch(dataset, [5], new Float32Array(3), new Int32Array(1))).toThrow('sample index 5 out of range');
  });
});
