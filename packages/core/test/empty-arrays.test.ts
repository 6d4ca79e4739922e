import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { allocFloat, allocFloatEmpty } from '../src/dtype.js';

describe('arrays the caller fills (allocFloatEmpty, Tensor.empty)', () => {
  it('have the asked type and length, small or large, and start as NaN in the test suites', () => {
    // The suites set FLOTILLA_POISON_EMPTY=1 (vitest.package.ts): without it this file would
    // pass on whatever memory the allocator returned, and so would a read-before-write bug.
    expect(process.env.FLOTILLA_POISON_EMPTY).toBe('1');
    for (const length of [0, 3, 1023, 1024, 5000]) {
      const f32 = allocFloatEmpty('float32', length);
      const f64 = allocFloatEmpty('float64', length);
      expect(f32).toBeInstanceOf(Float32Array);
      expect(f64).toBeInstanceOf(Float64Array);
      expect([f32.length, f64.length]).toEqual([length, length]);
      expect(f32.every(Number.isNaN) && f64.every(Number.isNaN)).toBe(true);
    }
    const t = Tensor.empty([3, 700]);
    expect([t.shape, t.size, t.dtype, t.requiresGrad]).toEqual([[3, 700], 2100, 'float32', false]);
    expect(Number.isNaN(t.data[2099])).toBe(true);
  });

  it('are separate buffers, aligned for the typed array, and allocFloat still zeroes', () => {
    const a = allocFloatEmpty('float64', 4096), b = allocFloatEmpty('float64', 4096);
    a.fill(1);
    expect(b.every(Number.isNaN)).toBe(true);
    expect(a.byteOffset % 8).toBe(0);
    expect(allocFloat('float32', 5000).every((v) => v === 0)).toBe(true);
  });

  it('a first gradient target is handed out unfilled with add false, a later one with add true', () => {
    const x = Tensor.zeros([2, 600], 'float32', true);
    const first = x.gradTarget();
    expect(first.add).toBe(false);
    expect(Number.isNaN(first.grad[0])).toBe(true); // not zeroed: the caller stores every element
    first.grad.fill(2);
    const second = x.gradTarget();
    expect(second.add).toBe(true);
    expect(second.grad).toBe(first.grad);
  });
});
