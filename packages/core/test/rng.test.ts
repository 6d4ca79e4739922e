import { describe, expect, it } from 'vitest';
import { CounterRng, philox4x32 } from '../src/rng.js';

const hex = (w: Uint32Array): string[] => Array.from(w, (v) => v.toString(16).padStart(8, '0'));

describe('Philox4x32-10', () => {
  // Known-answer vectors from Random123's tests/kat_vectors.
  it('matches the Random123 known-answer vectors', () => {
    const out = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, out);
    expect(hex(out)).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
    expect(hex(out)).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
    expect(hex(out)).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });
});

describe('CounterRng', () => {
  it('is a pure function of (seed, stream, index)', () => {
    const a = new CounterRng(42), b = new CounterRng(42);
    expect(a.uniform([1, 2], 12345)).toBe(b.uniform([1, 2], 12345));
    expect(a.uniform([1, 2], 12345)).not.toBe(a.uniform([1, 3], 12345));
    expect(a.uniform([1, 2], 12345)).not.toBe(new CounterRng(43).uniform([1, 2], 12345));
    const filled = new Float64Array(10);
    a.fillUniform(filled, [1, 2], 7);
    expect(Array.from(filled)).toEqual(Array.from({ length: 10 }, (_, i) => a.uniform([1, 2], 7 + i)));
  });
  it('gives uniforms with mean 1/2, variance 1/12 and normals with mean 0, variance 1', () => {
    const rng = new CounterRng(1);
    const n = 200000;
    let su = 0, su2 = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform([0, 0], i);
      const z = rng.normal([0, 1], i);
      su += u; su2 += u * u; sn += z; sn2 += z * z;
    }
    // Tolerances: about 5 standard errors of each estimate at n = 200000.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(su2 / n - (su / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
  it('permutes every index exactly once, differently per stream', () => {
    const rng = new CounterRng(5);
    const p = rng.permutation(1000, [2, 0]);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from(rng.permutation(1000, [2, 1])));
    expect(Array.from(p)).toEqual(Array.from(new CounterRng(5).permutation(1000, [2, 0])));
  });
  it('rejects a seed that is not a non-negative safe integer', () => {
    expect(() => new CounterRng(-1)).toThrow(/Invalid seed/);
    expect(() => new CounterRng(1.5)).toThrow(/Invalid seed/);
  });
});
