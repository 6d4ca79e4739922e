import { describe, expect, it } from 'vitest';
import { clipGradNorm, gradNorm } from './clip.js';

describe('gradNorm / clipGradNorm (seed 004: Δθ ↦ C Δθ / ‖Δθ‖ when ‖Δθ‖ > C)', () => {
  it('clips [3, 4, 12] (norm 13) to norm 6.5 by halving every entry', () => {
    const g = Float32Array.from([3, 4, 12]);
    expect(clipGradNorm(g, 6.5)).toBe(13);
    expect(Array.from(g)).toEqual([1.5, 2, 6]);
  });

  it('clips [3, -4] to norm 1: [0.6, -0.8]', () => {
    const g = Float64Array.from([3, -4]);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(g[0]).toBeCloseTo(0.6, 15);
    expect(g[1]).toBeCloseTo(-0.8, 15);
    expect(gradNorm(g)).toBeCloseTo(1, 15);
  });

  it('leaves a gradient within the bound (or with maxNorm = Infinity) untouched', () => {
    const g = Float32Array.from([3, 4]);
    expect(clipGradNorm(g, 5)).toBe(5);
    expect(clipGradNorm(g, Infinity)).toBe(5);
    expect(Array.from(g)).toEqual([3, 4]);
  });

  it('accumulates in float64: 10^6 entries of fround(0.1) have norm 1000·fround(0.1)', () => {
    const g = new Float32Array(1_000_000).fill(0.1);
    // A float32 running sum would be off by about 0.7% here.
    expect(gradNorm(g)).toBeCloseTo(1000 * Math.fround(0.1), 8);
  });

  it('returns a non-finite norm and leaves the gradient alone', () => {
    const g = Float32Array.from([NaN, 1]);
    expect(clipGradNorm(g, 1)).toBeNaN();
    expect(g[1]).toBe(1);
    const h = Float32Array.from([Infinity, 1]);
    expect(clipGradNorm(h, 1)).toBe(Infinity);
    expect(h[1]).toBe(1);
  });

  it('rejects a maxNorm that is not positive', () => {
    for (const bad of [0, -1, NaN]) {
      expect(() => clipGradNorm(new Float32Array(2), bad)).toThrow(`Invalid maxNorm: ${bad} (expected a number > 0)`);
    }
  });
});
