import { describe, expect, it } from 'vitest';
import { CounterRng, philox4x32, type Stream } from '../src/rng.js';
import { makeRandom } from './helpers.js';

/**
 * Philox4x32-10 as first written here: the high half of each 32×32 product in doubles
 * (16-bit limbs, Math.floor). Kept as an independent check of the integer-only version.
 */
function philoxDoubles(c: [number, number, number, number], k: [number, number]): number[] {
  const mulhi = (a: number, b: number): number => {
    const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
    const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16);
    return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
  };
  let [x0, x1, x2, x3] = c.map((v) => v >>> 0) as [number, number, number, number];
  let [key0, key1] = k.map((v) => v >>> 0) as [number, number];
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(0xd2511f53, x0), lo0 = Math.imul(0xd2511f53, x0) >>> 0;
    const hi1 = mulhi(0xcd9e8d57, x2), lo1 = Math.imul(0xcd9e8d57, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0; x1 = lo1; x2 = (hi0 ^ x3 ^ key1) >>> 0; x3 = lo0;
    key0 = (key0 + 0x9e3779b9) >>> 0; key1 = (key1 + 0xbb67ae85) >>> 0;
  }
  return [x0, x1, x2, x3];
}

describe('Philox4x32-10, integer-only', () => {
  it('agrees with the double-based computation on random and extreme counters and keys', () => {
    const rand = makeRandom(11);
    const word = (): number => {
      const r = rand();
      return r < 0.1 ? 0 : r < 0.2 ? 0xffffffff : r < 0.3 ? 0x80000000 : r < 0.4 ? 0xffff : Math.floor(rand() * 2 ** 32);
    };
    const out = new Uint32Array(4);
    for (let trial = 0; trial < 3000; trial++) {
      const c: [number, number, number, number] = [word(), word(), word(), word()];
      const k: [number, number] = [word(), word()];
      philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
      expect(Array.from(out)).toEqual(philoxDoubles(c, k));
    }
  });
});

describe('CounterRng block fills', () => {
  it('fillUniform equals per-element uniform() for random offsets and lengths, non-multiples of 4 included', () => {
    const rand = makeRandom(12);
    for (let trial = 0; trial < 200; trial++) {
      const rng = new CounterRng(Math.floor(rand() * 2 ** 53));
      const stream: Stream = [Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 32)];
      const start = trial < 8 ? 4 * 2 ** 32 - 4 + trial : Math.floor(rand() * 2 ** (trial % 52 + 1));
      const n = trial % 13 === 0 ? trial % 5 : 1 + Math.floor(rand() * 70);
      const out = trial % 2 ? new Float32Array(n) : new Float64Array(n);
      rng.fillUniform(out, stream, start);
      for (let i = 0; i < n; i++) expect(out[i]).toBe(rng.uniform(stream, start + i));
    }
  });

  it('fillMask equals thresholding the uniforms, p on and beside the 2⁻²⁴ grid included', () => {
    const rand = makeRandom(13);
    const ps = [0, 1, 0.1, 0.5, 0.999, 5 / 16777216, 5.000001 / 16777216, 4.999999 / 16777216, 0.25 + 2 ** -24, 1 - 2 ** -24];
    for (let trial = 0; trial < 120; trial++) {
      const rng = new CounterRng(Math.floor(rand() * 2 ** 40));
      const stream: Stream = [Math.floor(rand() * 2 ** 32), trial];
      const start = Math.floor(rand() * 2 ** (trial % 50 + 1));
      const n = 1 + Math.floor(rand() * 90);
      const p = ps[trial % ps.length]!;
      const keep = 1 / (1 - Math.min(p, 0.9));
      const uniforms = new Float64Array(n);
      rng.fillUniform(uniforms, stream, start);
      const mask = trial % 2 ? new Float32Array(n) : new Float64Array(n);
      rng.fillMask(mask, stream, start, p, keep);
      const want = mask instanceof Float32Array ? Math.fround(keep) : keep;
      for (let i = 0; i < n; i++) expect(mask[i]).toBe(uniforms[i]! >= p ? want : 0);
    }
    // A p on the grid: exactly the uniforms equal to p are kept (>=).
    const rng = new CounterRng(3);
    const u = new Float64Array(4096);
    rng.fillUniform(u, [1, 1]);
    const p = u[100]!;
    const mask = new Float64Array(4096);
    rng.fillMask(mask, [1, 1], 0, p, 2);
    expect(mask[100]).toBe(2);
    for (let i = 0; i < u.length; i++) expect(mask[i]).toBe(u[i]! >= p ? 2 : 0);
  });

  it('rejects a bad start index or p', () => {
    const rng = new CounterRng(1);
    expect(() => rng.fillUniform(new Float32Array(4), [0, 0], -1)).toThrow(/start/);
    expect(() => rng.fillUniform(new Float32Array(4), [0, 0], 0.5)).toThrow(/start/);
    expect(() => rng.fillMask(new Float32Array(4), [0, 0], 0, 1.5, 1)).toThrow(/p must be/);
    expect(() => rng.fillMask(new Float32Array(4), [0, 0], 0, Number.NaN, 1)).toThrow(/p must be/);
  });
});
