import { expect } from 'vitest';
import { gradcheck, type GradcheckOptions } from '../src/autodiff/gradcheck.js';
import { Tensor } from '../src/autodiff/tensor.js';
import { CounterRng } from '../src/rng.js';

/** A float64 tensor of N(0, 1)·scale + shift values that requires grad. */
export function randn(shape: number[], seed: number, scale = 1, shift = 0): Tensor {
  const t = Tensor.zeros(shape, 'float64', true);
  const rng = new CounterRng(seed);
  for (let i = 0; i < t.size; i++) t.data[i] = shift + scale * rng.normal([9, 9], i);
  return t;
}

export function expectGradcheck(fn: () => Tensor, inputs: Tensor[], options?: GradcheckOptions): void {
  const result = gradcheck(fn, inputs, options);
  expect(result.failures).toEqual([]);
  expect(result.ok).toBe(true);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
    }
  }
}

/** mulberry32: a small seeded generator, so every run checks the same inputs. Uniform in [0, 1). */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
