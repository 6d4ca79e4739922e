import { describe, expect, it } from 'vitest';
import { bf16Bits, bf16Value, f16Bits, f16Scale, f16Value } from '../src/index.js';
import { seeded } from './helpers.js';

/** The float32 with bit pattern u. */
function f32FromBits(u: number): number {
  return new Float32Array(new Uint32Array([u >>> 0]).buffer)[0];
}

const hex = (h: number) => `0x${h.toString(16).padStart(4, '0')}`;

/**
 * Independent reference for round-to-nearest-even: the pattern h is right for x (x ≥ 0)
 * iff no neighbouring pattern is nearer, and on a tie h is the even one. `value` gives the
 * value a pattern stands for when rounding (for binary16 the infinity pattern counts as
 * 65536, the next power of two, as IEEE 754 overflow rounding does). Patterns of
 * non-negative values increase with the value, so the neighbours settle it.
 */
function expectNearest(x: number, h: number, value: (h: number) => number, top: number): void {
  const d = Math.abs(value(h) - x);
  for (const n of [h - 1, h + 1]) {
    if (n < 0 || n > top) continue;
    const dn = Math.abs(value(n) - x);
    if (dn < d || (dn === d && (h & 1) === 1)) {
      throw new Error(`${x}: got ${hex(h)} (${value(h)}), but ${hex(n)} (${value(n)}) is nearer or the even tie`);
    }
  }
}

/** A random finite float32 with exponent in [lo, hi] (unbiased), any mantissa, either sign; sometimes subnormal. */
function randomFloat32(rand: () => number, lo: number, hi: number): number {
  const exponent = lo + Math.floor(rand() * (hi - lo + 1));
  const mantissa = Math.floor(rand() * 2 ** 23);
  const biased = Math.min(254, Math.max(0, exponent + 127));
  const sign = rand() < 0.5 ? 0x80000000 : 0;
  return f32FromBits(sign | (biased << 23) | mantissa);
}

describe('binary16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite
    [65519, 0x7bff], // below the overflow midpoint
    [65520, 0x7c00], // the midpoint to 65536: ties to even is the infinity pattern
    [-65520, 0xfc00],
    [1e6, 0x7c00],
    [3.4028234663852886e38, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -25, 0x0400], // tie between 0x03ff and 0x0400, to even
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24, to even
    [-(2 ** -25), 0x8000],
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units, to even
    [2 ** -26, 0x0000],
    [1 + 2 ** -11, 0x3c00], // tie, to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie, to even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just past the tie
    [2047, 0x67ff],
    [2049, 0x6800], // tie between 2048 and 2050, to even
    [2051, 0x6802],
    [1 / 3, 0x3555],
  ])('f16Bits(%s) = %s', (x, bits) => {
    expect(hex(f16Bits(x))).toBe(hex(bits));
  });

  it('f16Value reads known patterns', () => {
    expect(f16Value(0x3c00)).toBe(1);
    expect(f16Value(0xc000)).toBe(-2);
    expect(f16Value(0x7bff)).toBe(65504);
    expect(f16Value(0xfbff)).toBe(-65504);
    expect(f16Value(0x0400)).toBe(2 ** -14);
    expect(f16Value(0x03ff)).toBe(2 ** -14 - 2 ** -24);
    expect(f16Value(0x0001)).toBe(2 ** -24);
    expect(f16Value(0x3555)).toBe(0.333251953125);
    expect(Object.is(f16Value(0x0000), 0)).toBe(true);
    expect(Object.is(f16Value(0x8000), -0)).toBe(true);
    expect(f16Value(0x7c00)).toBe(Infinity);
    expect(f16Value(0xfc00)).toBe(-Infinity);
    for (const nan of [0x7c01, 0x7e00, 0x7fff, 0xfc01, 0xfe00, 0xffff]) expect(f16Value(nan)).toBeNaN();
  });

  it('NaN gives a NaN pattern', () => {
    const h = f16Bits(NaN);
    expect((h >>> 10) & 0x1f).toBe(31);
    expect(h & 0x3ff).not.toBe(0);
    expect(f16Value(h)).toBeNaN();
  });

  it('every non-NaN pattern survives a round trip through its value (all 65,536)', () => {
    let checked = 0;
    for (let h = 0; h < 65536; h++) {
      const v = f16Value(h);
      if (Number.isNaN(v)) {
        expect(f16Value(f16Bits(v))).toBeNaN();
        continue;
      }
      const back = f16Value(f16Bits(v));
      if (!Object.is(back, v)) throw new Error(`${hex(h)}: ${v} came back as ${back}`);
      if (f16Bits(v) !== h) throw new Error(`${hex(h)}: ${v} came back as pattern ${hex(f16Bits(v))}`);
      checked++;
    }
    expect(checked).toBe(65536 - 2 * 1023);
  });

  /** Pattern values for rounding: infinity stands for 65536 (IEEE overflow rounding). */
  const f16Rounding = (h: number) => (h === 0x7c00 ? 65536 : f16Value(h));

  it('rounds random float32 values to the nearest half, ties to even (200,000 values)', () => {
    const rand = seeded(1601);
    for (let i = 0; i < 200_000; i++) {
      // Exponents from below the subnormals (2^-26) to past the overflow (2^17).
      const x = randomFloat32(rand, -27, 17);
      const h = f16Bits(x);
      if ((h & 0x8000) !== (x < 0 || Object.is(x, -0) ? 0x8000 : 0)) throw new Error(`${x}: sign bit of ${hex(h)}`);
      if (f16Bits(-x) !== (h ^ 0x8000)) throw new Error(`${x}: -x gives ${hex(f16Bits(-x))}, not ${hex(h ^ 0x8000)}`);
      expectNearest(Math.abs(x), h & 0x7fff, f16Rounding, 0x7c00);
    }
  });

  it('rounds every midpoint between neighbouring halves to the even one, and values beside it to the nearer', () => {
    for (let h = 0; h < 0x7c00; h++) {
      const lo = f16Value(h);
      const hi = f16Rounding(h + 1);
      const mid = (lo + hi) / 2; // 12 significant bits: exact in float32
      expect(Math.fround(mid)).toBe(mid);
      const even = h % 2 === 0 ? h : h + 1;
      if (f16Bits(mid) !== even) throw new Error(`midpoint ${mid} of ${hex(h)}, ${hex(h + 1)}: got ${hex(f16Bits(mid))}`);
      const below = f32FromBits(new Uint32Array(new Float32Array([mid]).buffer)[0] - 1);
      const above = f32FromBits(new Uint32Array(new Float32Array([mid]).buffer)[0] + 1);
      if (f16Bits(below) !== h) throw new Error(`just below ${mid}: got ${hex(f16Bits(below))}, expected ${hex(h)}`);
      if (f16Bits(above) !== h + 1) throw new Error(`just above ${mid}: got ${hex(f16Bits(above))}, expected ${hex(h + 1)}`);
    }
  });
});

describe('bfloat16', () => {
  const MAX_BF16 = bf16Value(0x7f7f);

  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [1 + 2 ** -8, 0x3f80], // tie, to even
    [1 + 3 * 2 ** -8, 0x3f82], // tie, to even (up)
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just past the tie
    [1 / 3, 0x3eab],
    [2 ** -126, 0x0080], // smallest normal
    [2 ** -133, 0x0001], // smallest subnormal
    [2 ** -134, 0x0000], // tie, to even
    [2 ** -149, 0x0000],
    [3 * 2 ** -134, 0x0002], // tie, to even (up)
    [3.4028234663852886e38, 0x7f7f], // float32's largest: clamps instead of becoming infinity
    [-3.4028234663852886e38, 0xff7f],
    [3.4e38, 0x7f7f], // past the midpoint to 2^128 (about 3.3962e38): still finite
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
  ])('bf16Bits(%s) = %s', (x, bits) => {
    expect(hex(bf16Bits(x))).toBe(hex(bits));
  });

  it('bf16Value reads known patterns', () => {
    expect(bf16Value(0x3f80)).toBe(1);
    expect(bf16Value(0xc000)).toBe(-2);
    expect(bf16Value(0x7f7f)).toBe(3.3895313892515355e38);
    expect(bf16Value(0x0001)).toBe(2 ** -133);
    expect(Object.is(bf16Value(0x8000), -0)).toBe(true);
    expect(bf16Value(0x7f80)).toBe(Infinity);
    expect(bf16Value(0xff80)).toBe(-Infinity);
    for (const nan of [0x7f81, 0x7fc0, 0xffff]) expect(bf16Value(nan)).toBeNaN();
  });

  it('NaN stays NaN', () => {
    expect(bf16Value(bf16Bits(NaN))).toBeNaN();
    expect(bf16Value(bf16Bits(-NaN))).toBeNaN();
  });

  it('every non-NaN pattern survives a round trip through its value (all 65,536)', () => {
    for (let b = 0; b < 65536; b++) {
      const v = bf16Value(b);
      if (Number.isNaN(v)) {
        expect(bf16Value(bf16Bits(v))).toBeNaN();
        continue;
      }
      if (bf16Bits(v) !== b) throw new Error(`${hex(b)}: ${v} came back as pattern ${hex(bf16Bits(v))}`);
    }
  });

  it('rounds random float32 values to the nearest bfloat16, ties to even, finite ones staying finite (200,000 values)', () => {
    const rand = seeded(1602);
    for (let i = 0; i < 200_000; i++) {
      const x = randomFloat32(rand, -150, 128);
      const b = bf16Bits(x);
      if ((b & 0x8000) !== (x < 0 || Object.is(x, -0) ? 0x8000 : 0)) throw new Error(`${x}: sign bit of ${hex(b)}`);
      if (bf16Bits(-x) !== (b ^ 0x8000)) throw new Error(`${x}: -x gives ${hex(bf16Bits(-x))}, not ${hex(b ^ 0x8000)}`);
      if (Math.abs(x) > MAX_BF16) {
        if ((b & 0x7fff) !== 0x7f7f) throw new Error(`${x}: beyond bfloat16's largest finite, got ${hex(b)}, not ±0x7f7f`);
      } else expectNearest(Math.abs(x), b & 0x7fff, bf16Value, 0x7f7f);
    }
  });
});

describe('f16Scale', () => {
  const isPowerOfTwo = (s: number) => s > 0 && 2 ** Math.round(Math.log2(s)) === s;

  it('is 1 for all zeros (and for nothing)', () => {
    expect(f16Scale(new Float32Array(0))).toBe(1);
    expect(f16Scale(new Float32Array(5))).toBe(1);
    expect(f16Scale(new Float32Array([0, -0, 0]))).toBe(1);
  });

  it('puts max |x| in [2^14, 2^15) with a power of two', () => {
    const rand = seeded(1603);
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(rand() * 20);
      const values = new Float32Array(n);
      // Everything from 2^-112 (the smallest maximum the largest accepted scale, 2^126, still lifts to 2^14) up.
      const top = randomFloat32(rand, -112, 127);
      for (let j = 0; j < n; j++) values[j] = top * rand() * (rand() < 0.5 ? -1 : 1);
      values[Math.floor(rand() * n)] = top;
      const max = Math.max(...Array.from(values, Math.abs));
      const scale = f16Scale(values);
      expect(isPowerOfTwo(scale)).toBe(true);
      expect(max * scale).toBeGreaterThanOrEqual(2 ** 14);
      expect(max * scale).toBeLessThan(2 ** 15);
    }
  });

  it.each([
    [2 ** 14, 1],
    [-(2 ** 15), 0.5],
    [32767.998046875, 1], // largest float32 below 2^15
    [16383.9990234375, 2], // largest float32 below 2^14
    [1, 2 ** 14],
    [0.1, 2 ** 18],
    [3.4028234663852886e38, 2 ** -113], // float32's largest
    [2 ** -112, 2 ** 126],
  ])('max |x| = %s gives %s', (max, scale) => {
    expect(f16Scale(new Float32Array([0, max, max / 3]))).toBe(scale);
  });

  it('stops at 2^126, the largest gradScale a receiver accepts, for maxima below 2^-112', () => {
    for (const max of [2 ** -113, 1e-40, 2 ** -149]) {
      const scale = f16Scale(new Float32Array([max, -max / 2]));
      expect(scale).toBe(2 ** 126);
      expect(Math.fround(max) * scale).toBeLessThan(2 ** 14);
    }
  });
});
