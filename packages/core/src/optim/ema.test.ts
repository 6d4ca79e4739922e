import { describe, expect, it } from 'vitest';
import { ExponentialMovingAverage } from './ema.js';

describe('ExponentialMovingAverage', () => {
  it('follows x_test = d·x_test + (1 − d)·x step by step', () => {
    const ema = new ExponentialMovingAverage(Float64Array.from([1, -2]), 0.9);
    ema.update(Float64Array.from([2, 0]));
    expect(Array.from(ema.values)).toEqual([0.9 * 1 + 0.1 * 2, 0.9 * -2 + 0.1 * 0]);
    ema.update(Float64Array.from([4, 1]));
    expect(ema.values[0]).toBeCloseTo(0.9 * (0.9 + 0.2) + 0.1 * 4, 14);
    expect(ema.values[1]).toBeCloseTo(0.9 * -1.8 + 0.1 * 1, 14);
    expect(ema.updates).toBe(2);
  });
  it('rejects a decay outside [0, 1) and a length mismatch', () => {
    expect(() => new ExponentialMovingAverage(new Float32Array(2), 1)).toThrow(/Invalid EMA decay: 1/);
    expect(() => new ExponentialMovingAverage(new Float32Array(2)).update(new Float32Array(3))).toThrow(/params has 3 elements, expected 2/);
  });
});
