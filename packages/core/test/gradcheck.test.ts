import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autodiff/gradcheck.js';
import { Tensor, record } from '../src/autodiff/tensor.js';
import { randn } from './helpers.js';

/** x³ with a deliberately wrong derivative (2x² instead of 3x²). */
function badCube(x: Tensor): Tensor {
  const out = Tensor.zeros(x.shape, x.dtype);
  for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] ** 3;
  return record(out, 'badCube', [x], () => {
    const gx = x.gradBuffer();
    for (let i = 0; i < x.size; i++) gx[i] += out.grad![i] * 2 * x.data[i] ** 2;
  });
}

describe('gradcheck itself', () => {
  it('flags a wrong vector-Jacobian product', () => {
    const x = randn([3], 1);
    const result = gradcheck(() => badCube(x), [x]);
    expect(result.ok).toBe(false);
    expect(result.failures[0]).toMatch(/analytic .* numeric/);
  });
});
