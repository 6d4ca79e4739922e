import { describe, expect, it } from 'vitest';
import { EarlyStopping } from './early-stopping.js';

describe('EarlyStopping (seed 002: stop when validation loss stops decreasing, keep the best weights)', () => {
  it('stops after `patience` checks without an improvement larger than minDelta, and restores the best', () => {
    const es = new EarlyStopping(2, { patience: 2, minDelta: 0.1 });
    const params = new Float32Array(2);
    const losses = [1.0, 0.95, 0.85, 0.8, 0.84];
    const stops = losses.map((loss, epoch) => {
      params.fill(epoch);
      return es.update(loss, params);
    });
    // 0.95 is not below 1.0 − 0.1; 0.85 is (new best, epoch 2); 0.8 and 0.84 are not below 0.75.
    expect(stops).toEqual([false, false, false, false, true]);
    expect(es.bestLoss).toBe(0.85);
    expect(es.bestCheck).toBe(2);
    expect(es.checksWithoutImprovement).toBe(2);
    expect(Array.from(es.bestParams)).toEqual([2, 2]);
    es.restore(params);
    expect(Array.from(params)).toEqual([2, 2]);
  });

  it('with minDelta 0 any decrease counts, and the snapshot buffer is allocated once', () => {
    const es = new EarlyStopping(3, { patience: 1 }, 'float64');
    const snapshot = es.bestParams;
    expect(snapshot).toBeInstanceOf(Float64Array);
    expect(es.update(2, Float64Array.from([1, 2, 3]))).toBe(false);
    expect(es.update(1.999, Float64Array.from([4, 5, 6]))).toBe(false);
    expect(es.bestParams).toBe(snapshot);
    expect(Array.from(snapshot)).toEqual([4, 5, 6]);
    expect(es.update(1.999, Float64Array.from([7, 8, 9]))).toBe(true);
    expect(Array.from(snapshot)).toEqual([4, 5, 6]);
  });

  it('a NaN loss never improves', () => {
    const es = new EarlyStopping(1, { patience: 2 });
    expect(es.update(NaN, new Float32Array(1))).toBe(false);
    expect(es.update(NaN, new Float32Array(1))).toBe(true);
    expect(() => es.restore(new Float32Array(1))).toThrow('no finite validation loss has been recorded yet');
  });

  it('rejects bad options and sizes', () => {
    expect(() => new EarlyStopping(2, { patience: 0 })).toThrow('Invalid patience: 0 (expected an integer >= 1)');
    expect(() => new EarlyStopping(2, { patience: 1.5 })).toThrow('Invalid patience: 1.5');
    expect(() => new EarlyStopping(2, { patience: 1, minDelta: -1 })).toThrow('Invalid minDelta: -1');
    const es = new EarlyStopping(2, { patience: 1 });
    expect(() => es.update(1, new Float32Array(3))).toThrow('EarlyStopping: params has 3 elements, expected 2');
  });
});
