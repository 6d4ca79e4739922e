import { describe, expect, it } from 'vitest';
import { bf16Value, f16Value } from '../src/index.js';
import { decodeHalfWasm, encodeHalfWasm, halfLaneValuesEncoded, maxAbsBitsWasm } from '@flotilla/core';
import {
  decodeHalf, decodeHalfTypeScript, encodeHalf, encodeHalfReference, encodeHalfTypeScript, f16Scale, f16ScaleOfMaxBits, f16ScaleReference, maxAbsBits, type HalfKind,
} from '../src/half.js';
import { seeded } from './helpers.js';

/**
 * Both fast encoders and decoders against the per-element definition (f16Bits/bf16Bits
 * through encodeHalfReference, f16Value/bf16Value), bit for bit: encodeHalf/decodeHalf,
 * which take core's WebAssembly SIMD kernels from 256 values on, and the table-driven,
 * integer-only TypeScript (with its paired 32-bit loads and stores) they fall back to.
 */
const CODECS = [
  { name: 'encodeHalf (WebAssembly from 256 values)', encode: encodeHalf, decode: decodeHalf },
  { name: 'encodeHalfTypeScript', encode: encodeHalfTypeScript, decode: decodeHalfTypeScript },
];

const hex = (h: number) => `0x${h.toString(16).padStart(4, '0')}`;

function f32FromBits(u: number): number {
  return new Float32Array(new Uint32Array([u >>> 0]).buffer)[0];
}

/** A 16-bit array of n entries at an even or odd element offset (4-byte aligned or not) in a buffer of junk. */
function halvesAt(n: number, offset: number): Uint16Array {
  const buffer = new Uint16Array(n + offset + 3).fill(0xdead);
  return buffer.subarray(offset, offset + n);
}

function floatsAt(values: ArrayLike<number>, offset: number): Float32Array {
  const out = new Float32Array(values.length + offset + 1).fill(12345).subarray(offset, offset + values.length);
  out.set(values);
  return out;
}

type Encoder = typeof encodeHalf;

function expectSameEncoding(encodeHalf: Encoder, kind: HalfKind, values: Float32Array, scale: number, what: string): void {
  for (const offset of [0, 1]) {
    const want = halvesAt(values.length, offset);
    const got = halvesAt(values.length, offset);
    encodeHalfReference(kind, values, scale, want);
    encodeHalf(kind, values, scale, got);
    for (let i = 0; i < values.length; i++) {
      if (got[i] !== want[i]) {
        throw new Error(`${kind} ${what} (scale 2^${Math.log2(scale)}, dst offset ${offset}): [${i}] = ${values[i]} gave ${hex(got[i])}, not ${hex(want[i])}`);
      }
    }
    // Nothing written outside dst.
    const whole = new Uint16Array(got.buffer);
    for (let i = 0; i < whole.length; i++) {
      if ((i < offset || i >= offset + values.length) && whole[i] !== 0xdead) throw new Error(`${kind} ${what}: wrote outside dst at ${i}`);
    }
  }
}

/** Values of every kind the encoders treat differently, at magnitudes around `center` (a power of two). */
function mixedValues(rand: () => number, n: number, center: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand();
    const sign = rand() < 0.5 ? -1 : 1;
    if (r < 0.05) out[i] = sign * 0;
    else if (r < 0.1) {
      // A binary16 tie (or a neighbour of one) at this scale: an odd multiple of half a unit, times 2^e.
      const e = Math.floor(rand() * 50) - 30;
      const tie = (2 * Math.floor(rand() * 2048) + 1) * 2 ** (e - 11);
      out[i] = sign * tie / center * 2 ** 14;
      const u = new Uint32Array(new Float32Array([out[i]]).buffer)[0];
      const nudge = Math.floor(rand() * 3) - 1;
      if (nudge !== 0 && out[i] !== 0) out[i] = f32FromBits(u + nudge);
    } else if (r < 0.13) out[i] = f32FromBits((sign < 0 ? 0x80000000 : 0) | Math.floor(rand() * 0x800000)); // float32 subnormal
    else if (r < 0.15) out[i] = sign * 3.4028234663852886e38 * rand();
    else {
      // Log-uniform from 2^-40 below the centre (binary16 subnormals and underflow) to 2^2 above (overflow).
      out[i] = sign * center * 2 ** (rand() * 42 - 40);
    }
  }
  return out;
}

describe.each(CODECS)('$name: f16', ({ encode }) => {
  it('matches the per-element encoder over random arrays, at the chosen scale and at others', () => {
    const rand = seeded(4401);
    for (let trial = 0; trial < 300; trial++) {
      const n = [0, 1, 2, 3, 5, 6, 7, 9, 31, 33, 101, 1000, 4097][trial % 13];
      const center = 2 ** (Math.floor(rand() * 250) - 130);
      const values = mixedValues(rand, n, center);
      expectSameEncoding(encode, 'f16', values, f16Scale(values), `trial ${trial}`);
      // Scales that push values into binary16 subnormals, underflow, overflow, float32 over/underflow.
      for (const k of [Math.floor(rand() * 300) - 170, Math.floor(rand() * 40) - 10, 113, 114, -113, -160, -161, 126]) {
        expectSameEncoding(encode, 'f16', values, 2 ** k, `trial ${trial}`);
      }
    }
  });

  it('matches on signed zeros, ties, subnormals, extremes and non-finite values at every scale 2^-170..2^130', () => {
    const specials: number[] = [0, -0, Infinity, -Infinity, NaN, -NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.1754942106924411e-38];
    for (let k = -30; k <= 30; k++) {
      // Halfway points between binary16 values (ties, at scale 1) and their float32 neighbours.
      for (const tie of [2 ** -25, 3 * 2 ** -25, 2 ** -14 - 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2049, 65504]) specials.push(tie * 2 ** k, -tie * 2 ** k);
    }
    const values = new Float32Array(specials);
    for (let k = -170; k <= 130; k++) expectSameEncoding(encode, 'f16', values, 2 ** k, 'specials');
    // Scales that are not powers of two: the TypeScript takes the per-element form, the
    // WebAssembly kernels those float32 holds exactly (3, 0.75), the TypeScript the rest.
    for (const scale of [3, 0.75, 0.3, 1 / 3, 1e-3, 1e-30]) expectSameEncoding(encode, 'f16', values, scale, 'specials');
  });

  it('matches at scales that are not powers of two, on values that stay on the vector lanes', () => {
    // Enough values that some products land within float32's rounding of 0.3 (or 1/3, ...)
    // from a binary16 rounding point: a float32 product by Math.fround(scale) differs there.
    const rand = seeded(4407);
    const values = new Float32Array(100_001).map(() => (rand() - 0.5) * 1000);
    for (const scale of [3, 0.75, 0.3, 1 / 3, 0.7, 1e-3]) expectSameEncoding(encode, 'f16', values, scale, `scale ${scale}`);
  });

  it('matches for every float32 exponent and sign, with mantissas at and around the rounding points', () => {
    const patterns: number[] = [];
    for (let top9 = 0; top9 < 512; top9++) {
      for (const mantissa of [0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7ff001, 0x7fffff, 0x400000, 0x123456]) {
        patterns.push(((top9 << 23) | mantissa) >>> 0);
      }
    }
    const values = new Float32Array(new Uint32Array(patterns).buffer);
    for (const k of [-160, -126, -113, -112, -100, -24, -1, 0, 1, 10, 14, 18, 24, 50, 100, 112, 113, 126]) {
      expectSameEncoding(encode, 'f16', values, 2 ** k, 'exponent sweep');
    }
  });
});

describe.each(CODECS)('$name: bf16', ({ encode }) => {
  it('matches the per-element encoder over random arrays and every exponent', () => {
    const rand = seeded(4402);
    for (let trial = 0; trial < 300; trial++) {
      const n = [0, 1, 2, 3, 5, 6, 7, 9, 31, 33, 101, 1000, 4097][trial % 13];
      expectSameEncoding(encode, 'bf16', mixedValues(rand, n, 2 ** (Math.floor(rand() * 250) - 130)), 1, `trial ${trial}`);
    }
    const patterns: number[] = [];
    for (let top9 = 0; top9 < 512; top9++) {
      for (const low of [0, 1, 0x7fff, 0x8000, 0x8001, 0x18000, 0x17fff, 0x7f7fff, 0x7f8000, 0x7fffff, 0x7f7f8000 & 0x7fffff, 0x400000]) {
        patterns.push(((top9 << 23) | low) >>> 0);
      }
    }
    // Around the largest finite bfloat16 and the rounding boundary to 2^128.
    for (let d = -3; d <= 3; d++) patterns.push(0x7f7f8000 + d, (0xff7f8000 + d) >>> 0, 0x7f7f7fff + d, (0x7f800000 + d) >>> 0);
    expectSameEncoding(encode, 'bf16', new Float32Array(new Uint32Array(patterns).buffer), 1, 'exponent sweep');
  });
});

/** How many values `encode` converted in core's SIMD lanes (the scalar form gives the same bits, so only this tells). */
function laneValuesOf(encode: () => void): number {
  const before = halfLaneValuesEncoded();
  encode();
  return halfLaneValuesEncoded() - before;
}

/** What the lanes take of n values in 8192-value pieces: all but each piece's last len % 8, none of a piece in `scalar`. */
function laneShare(n: number, scalar: ReadonlySet<number> = new Set()): number {
  let lanes = 0;
  for (let at = 0, piece = 0; at < n; at += 8192, piece++) {
    const len = Math.min(8192, n - at);
    if (!scalar.has(piece)) lanes += len - (len % 8);
  }
  return lanes;
}

/**
 * core's WebAssembly encoders take their vector lanes only for pieces (8192 values) whose
 * every value (times the scale) is finite and below the first value that rounds to ±∞
 * (65520 for f16, 0x7f7f8000 as a pattern for bf16); one such value sends its piece down
 * the scalar form, which the arrays above (they all hold one) test. These hold none, at
 * lengths that end with a partial vector.
 */
describe('encodeHalf: WebAssembly lanes (finite values below the overflow point)', () => {
  it('runs in WebAssembly here (else both rows above test the TypeScript)', () => {
    const values = new Float32Array(256).fill(1);
    expect(encodeHalfWasm('bf16', values, 1, 0, new Uint16Array(256))).toBe(true);
    expect(encodeHalfWasm('f16', values, 2 ** 14, 0x7bff, new Uint16Array(256))).toBe(true);
    expect(decodeHalfWasm('f16', new Uint16Array(256), 2 ** 14, new Float32Array(256))).toBe(true);
    expect(maxAbsBitsWasm(values)).toBe(0x3f800000);
  });

  /** Every float32 sign and exponent, mantissas at and around the rounding points, at or below `limit` as |pattern|. */
  function sweep(mantissas: number[], limit: number): Float32Array {
    const patterns: number[] = [];
    for (let top9 = 0; top9 < 512; top9++) {
      for (const m of mantissas) {
        const u = ((top9 << 23) | m) >>> 0;
        if ((u & 0x7fffffff) < limit) patterns.push(u);
      }
    }
    while (patterns.length % 8 !== 5) patterns.push(0); // a partial vector at the end
    return new Float32Array(new Uint32Array(patterns).buffer);
  }

  it('f16: normals, subnormals, ties and underflow at scales 2^-112..2^40', () => {
    // (Below 2^-112 the largest binary16 values would divide back past float32's range, so
    // top < 0x7bff and every piece takes the scalar form, which the tests above cover.)
    const mantissas = [0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7ff001, 0x7fffff, 0x400000, 0x123456];
    for (let k = -112; k <= 40; k += 3) {
      // Patterns whose product with 2^k stays below 65520: |u| < 0x477ff000 − k·2^23 (all, for k ≤ 0, below the top binades).
      const limit = Math.min(0x7f800000, 0x477ff000 - k * 0x800000);
      const values = sweep(mantissas, limit);
      expect(values.length).toBeGreaterThan(256);
      expect(values.every((x) => Number.isFinite(x) && Math.abs(Math.fround(x * 2 ** k)) < 65520)).toBe(true);
      expectSameEncoding(encodeHalf, 'f16', values, 2 ** k, 'lane sweep');
    }
  });

  it('f16: random gradients of every sign and magnitude at their own scale', () => {
    const rand = seeded(4404);
    for (const n of [256, 257, 263, 1000, 4097, 20_001]) {
      const values = new Float32Array(n).map(() => (rand() < 0.1 ? 0 : (rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 60 - 50)));
      expectSameEncoding(encodeHalf, 'f16', values, f16Scale(values), `n ${n}`);
      // The fast path really ran: the lanes took every whole vector of every piece.
      expect(laneValuesOf(() => encodeHalf('f16', values, f16Scale(values), new Uint16Array(n))), `n ${n}`).toBe(laneShare(n));
      expect(laneValuesOf(() => encodeHalf('bf16', values, 1, new Uint16Array(n))), `bf16 n ${n}`).toBe(laneShare(n));
    }
  });

  it('one value at or past the overflow point, at any position, sends its piece to the scalar form', () => {
    const rand = seeded(4405);
    const base = new Float32Array(20_001).map(() => (rand() - 0.5) * 100);
    // For bf16 the first pattern that rounds to ∞ (0x7f7f8000; 3.3961514e38 as a literal is 0x7f7f7f7f, just below it).
    for (const [kind, specials] of [['f16', [65520, -65520, 1e6, Infinity, -Infinity, NaN]], ['bf16', [f32FromBits(0x7f7f8000), -3.4028234663852886e38, Infinity, NaN]]] as const) {
      // In the first piece, the second (from 8192) and the last, partial one (from 16384).
      for (const at of [0, 1, 3, 4, 5, 7, 8, 12, 15, 8191, 8192, 8197, 12_000, 16_384, 19_999, 20_000]) {
        for (const special of specials) {
          const values = base.slice();
          values[at] = special;
          expectSameEncoding(encodeHalf, kind, values, 1, `${special} at ${at}`);
          // Only the special value's piece went to the scalar form, unless the value was in
          // the piece's last len % 8, which the scalar form does anyway (20,000 here).
          const piece = Math.floor(at / 8192), len = Math.min(8192, values.length - 8192 * piece);
          const inLanes = at % 8192 < len - (len % 8);
          expect(laneValuesOf(() => encodeHalf(kind, values, 1, new Uint16Array(values.length))), `${special} at ${at}`)
            .toBe(laneShare(values.length, new Set(inLanes ? [piece] : [])));
        }
      }
    }
  });

  it('bf16: every exponent below the top, mantissas around the rounding points', () => {
    const values = sweep([0, 1, 0x7fff, 0x8000, 0x8001, 0x18000, 0x17fff, 0x7f7fff, 0x7f8000, 0x7fffff, 0x400000], 0x7f7f8000);
    expect(values.length).toBeGreaterThan(256);
    expectSameEncoding(encodeHalf, 'bf16', values, 1, 'lane sweep');
  });
});

describe('fast f16Scale', () => {
  it('matches the per-element scan (NaN, ±∞, subnormals, zeros, odd lengths)', () => {
    const rand = seeded(4403);
    for (let trial = 0; trial < 2000; trial++) {
      const n = Math.floor(rand() * 12);
      const values = mixedValues(rand, n, 2 ** (Math.floor(rand() * 250) - 130));
      if (n > 0 && rand() < 0.2) values[Math.floor(rand() * n)] = [NaN, Infinity, -Infinity, -0][Math.floor(rand() * 4)];
      const scale = f16Scale(values);
      expect(scale).toBe(f16ScaleReference(values));
      const maxBits = maxAbsBits(values);
      const finite = values.every((x) => Number.isFinite(x));
      expect(maxBits >= 0x7f800000).toBe(!finite);
      if (finite) expect(f16ScaleOfMaxBits(maxBits)).toBe(scale);
    }
    expect(f16Scale(floatsAt([1, 2, 65536], 1))).toBe(f16ScaleReference(floatsAt([1, 2, 65536], 1)));
  });

  it('maxAbsBits is the largest magnitude pattern at every length (WebAssembly from 256 values on)', () => {
    const rand = seeded(4406);
    for (const n of [1, 7, 255, 256, 257, 263, 1000, 8192, 8193, 20_001]) {
      for (let trial = 0; trial < 4; trial++) {
        const values = mixedValues(rand, n, 2 ** (Math.floor(rand() * 250) - 130));
        if (trial > 0) values[Math.floor(rand() * n)] = [NaN, Infinity, -Infinity, -3e38][trial];
        const bits = new Uint32Array(values.buffer, values.byteOffset, n);
        let want = 0;
        for (let i = 0; i < n; i++) want = Math.max(want, bits[i] & 0x7fffffff);
        expect(maxAbsBits(floatsAt(values, trial % 2))).toBe(want);
      }
    }
  });
});

describe.each(CODECS)('$name: decoding', ({ decode: decodeHalf }) => {
  it('decodes every pattern as the per-element lookup does, at either alignment', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    for (const offset of [0, 1]) {
      const src = halvesAt(65535, offset);
      src.set(all.subarray(0, 65535));
      for (const scale of [1, 2 ** 18, 2 ** -113, 2 ** 126, 3, 0.3]) {
        const out = floatsAt(new Float32Array(src.length), offset);
        decodeHalf('f16', src, scale, out);
        for (let i = 0; i < src.length; i++) {
          const want = Math.fround(f16Value(src[i]) * (1 / scale));
          if (!Object.is(out[i], want) && !(Number.isNaN(want) && Number.isNaN(out[i]))) throw new Error(`f16 ${hex(src[i])} / ${scale}: ${out[i]}, not ${want}`);
        }
      }
      const out = floatsAt(new Float32Array(src.length), offset);
      decodeHalf('bf16', src, 1, out);
      const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
      for (let i = 0; i < src.length; i++) {
        if (bits[i] !== src[i] << 16 >>> 0) throw new Error(`bf16 ${hex(src[i])}: bits ${bits[i].toString(16)}`);
        if (!Object.is(out[i], bf16Value(src[i])) && !Number.isNaN(out[i])) throw new Error(`bf16 ${hex(src[i])}`);
      }
    }
  });
});
