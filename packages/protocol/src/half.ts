/**
 * 16-bit float transport for gradients (`--grad-dtype f16|bf16`): float32 values to IEEE
 * binary16 or bfloat16 bit patterns and back, rounding to nearest, ties to even.
 *
 * float16 has 5 exponent bits (largest finite 65504, 11 significant bits), so a gradient is
 * multiplied by a power-of-two scale first that puts its largest magnitude in [2^14, 2^15):
 * nothing overflows and small entries keep as many bits as the range allows (the
 * per-tensor form of mixed-precision loss scaling). Scaling by a power of two is exact.
 * bfloat16 keeps float32's 8 exponent bits (8 significant bits) and needs no scale.
 */

import { decodeHalfWasm, encodeHalfWasm, maxAbsBitsWasm } from '@flotilla/core';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 bit pattern of x (after rounding x to float32). */
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** Rounds y ≥ 0 to the nearest integer, ties to even. */
function roundHalfEven(y: number): number {
  const r = Math.floor(y);
  const d = y - r;
  return d > 0.5 || (d === 0.5 && (r & 1) === 1) ? r + 1 : r;
}

/** binary16 bits of x (a float32 value), round to nearest even; overflow gives ±Infinity. */
export function f16Bits(x: number): number {
  const u = bitsOf(x);
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00; // NaN
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (and ∞) rounds to ∞
  if (a < 0x38800000) {
    // Below 2^-14: a subnormal half, the integer nearest |x| / 2^-24 (1024 is the smallest normal).
    f32[0] = x;
    return sign | roundHalfEven(Math.abs(f32[0]) * 2 ** 24);
  }
  const exponent = (a >>> 23) - 127 + 15;
  const mantissa = a & 0x7fffff;
  let half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++; // a carry moves into the exponent, as it should
  return sign | half;
}

/** The value of binary16 bits h. */
export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** bfloat16 bits of x (a float32 value), round to nearest even; finite values never become ∞. */
export function bf16Bits(x: number): number {
  const u = bitsOf(x);
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0; // NaN
  const rounded = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  // Finite values above bfloat16's largest finite (about 3.39e38) stay at it instead of ∞.
  if ((rounded & 0x7fff) === 0x7f80 && (u & 0x7fffffff) !== 0x7f800000) return (rounded & 0x8000) | 0x7f7f;
  return rounded & 0xffff;
}

/** The value of bfloat16 bits b. */
export function bf16Value(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

/** The power of two that puts max |values| in [2^14, 2^15) (1 for all zeros), for f16 transport. */
export function f16Scale(values: Float32Array): number {
  const maxBits = maxAbsBits(values);
  // A NaN (bits above ∞'s) hides the maximum, which the reference finds by skipping NaN.
  return maxBits > 0x7f800000 ? f16ScaleReference(values) : f16ScaleOfMaxBits(maxBits);
}

/**
 * The largest |x| over `values` as float32 bits (bits & 0x7fffffff): non-NaN magnitudes
 * order like these integers, so one integer pass finds the maximum, and a result of
 * 0x7f800000 or more says the array holds a non-finite value (codec.ts fuses its finite
 * check with the scale's scan this way).
 */
export function maxAbsBits(values: Float32Array): number {
  const simd = maxAbsBitsWasm(values); // core's WebAssembly SIMD where it applies
  if (simd >= 0) return simd;
  const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
  const even = bits.length & ~1;
  let m0 = 0;
  let m1 = 0;
  for (let i = 0; i < even; i += 2) {
    const a = bits[i] & 0x7fffffff;
    const b = bits[i + 1] & 0x7fffffff;
    if (a > m0) m0 = a;
    if (b > m1) m1 = b;
  }
  if (even < bits.length) {
    const a = bits[even] & 0x7fffffff;
    if (a > m0) m0 = a;
  }
  return m0 > m1 ? m0 : m1;
}

/** f16Scale of an array whose maxAbsBits is `maxBits` (finite or ∞, not NaN). */
export function f16ScaleOfMaxBits(maxBits: number): number {
  u32[0] = maxBits;
  return scaleFor(f32[0]);
}

/** f16Scale as first written, one float at a time: the definition f16Scale must match. */
export function f16ScaleReference(values: Float32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > max) max = a;
  }
  return scaleFor(max);
}

function scaleFor(max: number): number {
  if (max === 0 || !Number.isFinite(max)) return 1;
  let scale = 2 ** (14 - Math.floor(Math.log2(max)));
  if (max * scale >= 2 ** 15) scale /= 2; // log2 rounded up across a power of two
  if (max * scale < 2 ** 14) scale *= 2;
  return Math.min(scale, 2 ** 126); // the largest gradScale the schema accepts (max |x| < 2^-112 lands lower)
}

export type HalfKind = 'f16' | 'bf16';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes `src` (times `scale` for f16) as 16-bit patterns into dst[0..src.length), bit for
 * bit what encodeHalfReference writes: core's WebAssembly SIMD kernel where it applies
 * (4x as fast as the TypeScript below for f16 and 3.5x for bf16 on the default model's
 * gradient, copies in and out included: bench/half.mjs), else encodeHalfTypeScript.
 */
export function encodeHalf(kind: HalfKind, src: Float32Array, scale: number, dst: Uint16Array): void {
  if (!encodeHalfWasm(kind, src, scale, kind === 'f16' ? topPattern(scale) : 0, dst)) encodeHalfTypeScript(kind, src, scale, dst);
}

/**
 * encodeHalf in TypeScript, bit for bit the same. The loops work on the float32 bit patterns with
 * integers only and, on little-endian hosts with a 4-byte aligned `dst`, store two patterns
 * per 32-bit write (about 4x faster for f16 and 2x for bf16 than the per-element form).
 */
export function encodeHalfTypeScript(kind: HalfKind, src: Float32Array, scale: number, dst: Uint16Array): void {
  const bits = new Int32Array(src.buffer, src.byteOffset, src.length);
  const paired = Math.min(src.length, dst.length) >> 1; // (writes past a short dst vanish, as typed-array stores do)
  const pairs = LITTLE_ENDIAN && dst.byteOffset % 4 === 0 ? new Int32Array(dst.buffer, dst.byteOffset, paired) : null;
  if (kind === 'bf16') {
    encodeBf16(bits, pairs, dst);
    return;
  }
  const k = Math.log2(scale);
  // The rows cover power-of-two scales 2^-160..2^113 (above 2^113 float32 subnormals would
  // reach binary16 normals, which the subnormal row does not normalize); other scales take
  // the per-element definition.
  if (Number.isInteger(k) && 2 ** k === scale && k >= -160 && k <= 113) {
    const rows = f16Rows(k, scale); // sets f16Top
    encodeF16(bits, pairs, src, scale, rows, f16Top, dst);
  } else encodeHalfReference(kind, src, scale, dst);
}

/**
 * encodeHalf one element at a time through f16Bits/bf16Bits: the definition the fast paths
 * match bit for bit (kept for tests and for scales the fast path does not take).
 */
export function encodeHalfReference(kind: HalfKind, src: Float32Array, scale: number, dst: Uint16Array): void {
  if (kind === 'bf16') {
    for (let i = 0; i < src.length; i++) dst[i] = bf16Bits(src[i]);
  } else {
    const top = topPattern(scale);
    for (let i = 0; i < src.length; i++) dst[i] = f16Clamped(src[i], scale, top);
  }
}

/**
 * The largest binary16 magnitude pattern that divides back by `scale` to a finite float32.
 * Halves that would decode past float32's range (at scale 2^-113, a value within 2^-12 of
 * float32's largest rounds up to 2^15, i.e. 2^128) stay at it, as bf16Bits keeps finite
 * values finite.
 */
function topPattern(scale: number): number {
  let top = 0x7bff;
  while (!Number.isFinite(Math.fround(f16Value(top) / scale))) top--;
  return top;
}

/** The f16 pattern of one value: f16Bits(x · scale), ±∞ and overflow held at ±top. */
function f16Clamped(x: number, scale: number, top: number): number {
  const h = f16Bits(x * scale);
  const a = h & 0x7fff;
  return a > top && a <= 0x7c00 ? (h & 0x8000) | top : h;
}

/** bf16 of float32 bits u the long way (NaN, ±∞, values that round past bfloat16's largest). */
function bf16OfBits(u: number): number {
  u32[0] = u;
  return bf16Bits(f32[0]);
}

/*
 * bf16Bits on bit patterns: below 0x7f7f8000 in magnitude (halfway from bfloat16's largest
 * to 2^128) rounding to nearest even cannot reach ∞ or meet a NaN, so it is one add and a
 * shift; |bits| + 0x00808000 is negative (as an int32) exactly from there up, which tests a
 * pair with one branch.
 */
function encodeBf16(bits: Int32Array, pairs: Int32Array | null, dst: Uint16Array): void {
  let i = 0;
  if (pairs) {
    for (let j = 0; j < pairs.length; j++) {
      const u = bits[2 * j];
      const v = bits[2 * j + 1];
      if ((((u & 0x7fffffff) + 0x00808000) | ((v & 0x7fffffff) + 0x00808000)) < 0) {
        dst[2 * j] = bf16OfBits(u);
        dst[2 * j + 1] = bf16OfBits(v);
      } else {
        pairs[j] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) | ((v + 0x7fff + ((v >>> 16) & 1)) & 0xffff0000);
      }
    }
    i = 2 * pairs.length;
  }
  for (; i < bits.length; i++) {
    const u = bits[i];
    dst[i] = (u & 0x7fffffff) >= 0x7f7f8000 ? bf16OfBits(u) : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
}

/*
 * f16 by table. The top 9 bits of a float32 (sign, biased exponent e) pick a row: the
 * pattern's base (sign and exponent field, bits 0..15), the implicit leading 1 (bit 23; 0
 * for e = 0) and a right shift s (bits 24..28). The pattern of x · 2^k is
 *
 *   base + round_nearest_even(M / 2^s),   M = the 23 mantissa bits | the implicit bit,
 *
 * with, for the product's biased float32 exponent ee = max(e, 1) + k:
 *   ee ≥ 143 (2^16 and up, also past float32's range): base = top, s = 30 (adds nothing);
 *   113 ≤ ee < 143 (binary16 normals): base = (ee − 113) << 10, s = 13 (M / 2^13 is 1024 +
 *     the mantissa, so the exponent field comes out ee − 112; a rounding carry runs on into
 *     the exponent);
 *   ee < 113 and e = 0 (binary16 subnormals; float32 subnormals, k ≤ 113): base = 0,
 *     s = min(30, 126 − ee), counting units of 2^-24 (a carry into 1024 is the smallest
 *     normal). Products below float32's normals round to ±0 here and in f16Bits alike.
 * Rows that can round above `top` (the binade below 2^16, and any when top < 0x7bff) and
 * e = 255 (∞, NaN) are negative: their elements take f16Clamped.
 */
let F16_ROWS = new Int32Array(512);
let f16RowsFor = NaN;
/** topPattern of the scale F16_ROWS were built for. */
let f16Top = 0x7bff;

function f16Rows(k: number, scale: number): Int32Array {
  if (f16RowsFor === k) return F16_ROWS;
  const rows = new Int32Array(512);
  const top = topPattern(scale);
  for (let j = 0; j < 512; j++) {
    const e = j & 0xff;
    const sign = j & 0x100 ? 0x8000 : 0;
    const ee = Math.max(e, 1) + k;
    const implicit = e === 0 ? 0 : 0x800000;
    let base: number;
    let shift: number;
    if (e === 255) {
      rows[j] = -1;
      continue;
    } else if (ee >= 143) {
      base = top;
      shift = 30;
    } else if (ee >= 113 && e !== 0) {
      base = (ee - 113) << 10;
      shift = 13;
    } else {
      base = 0;
      shift = Math.min(30, 126 - ee);
    }
    const largest = base + roundShift(implicit | 0x7fffff, shift); // rounding is monotone in M
    rows[j] = largest > top ? -1 : sign | base | implicit | (shift << 24);
  }
  F16_ROWS = rows;
  f16RowsFor = k;
  f16Top = top;
  return rows;
}

/** round_nearest_even(m / 2^shift) for 0 ≤ m < 2^24, 1 ≤ shift ≤ 30. */
function roundShift(m: number, shift: number): number {
  return (m + (1 << (shift - 1)) - 1 + ((m >>> shift) & 1)) >>> shift;
}

function encodeF16(
  bits: Int32Array, pairs: Int32Array | null, src: Float32Array, scale: number, rows: Int32Array, top: number, dst: Uint16Array,
): void {
  let i = 0;
  if (pairs) {
    for (let j = 0; j < pairs.length; j++) {
      const u = bits[2 * j];
      const v = bits[2 * j + 1];
      const ru = rows[u >>> 23];
      const rv = rows[v >>> 23];
      if ((ru | rv) < 0) {
        dst[2 * j] = f16Element(u, ru, src[2 * j], scale, top);
        dst[2 * j + 1] = f16Element(v, rv, src[2 * j + 1], scale, top);
        continue;
      }
      const su = ru >>> 24;
      const mu = (u & 0x7fffff) | (ru & 0x800000);
      const sv = rv >>> 24;
      const mv = (v & 0x7fffff) | (rv & 0x800000);
      const hu = (ru & 0xffff) + ((mu + (1 << (su - 1)) - 1 + ((mu >>> su) & 1)) >>> su);
      const hv = (rv & 0xffff) + ((mv + (1 << (sv - 1)) - 1 + ((mv >>> sv) & 1)) >>> sv);
      pairs[j] = hu | (hv << 16);
    }
    i = 2 * pairs.length;
  }
  for (; i < bits.length; i++) {
    const u = bits[i];
    dst[i] = f16Element(u, rows[u >>> 23], src[i], scale, top);
  }
}

function f16Element(u: number, row: number, x: number, scale: number, top: number): number {
  if (row < 0) return f16Clamped(x, scale, top);
  const shift = row >>> 24;
  const m = (u & 0x7fffff) | (row & 0x800000);
  return (row & 0xffff) + ((m + (1 << (shift - 1)) - 1 + ((m >>> shift) & 1)) >>> shift);
}

/**
 * Decodes 16-bit patterns (divided by `scale` for f16) into dst[0..src.length): core's
 * WebAssembly SIMD kernel where it applies (3.3x as fast as the TypeScript for f16, 4.5x
 * for bf16), else decodeHalfTypeScript; the same values.
 */
export function decodeHalf(kind: HalfKind, src: Uint16Array, scale: number, dst: Float32Array): void {
  if (!decodeHalfWasm(kind, src, scale, dst)) decodeHalfTypeScript(kind, src, scale, dst);
}

/** decodeHalf in TypeScript: bf16 by shifting, f16 by a table of all 65,536 values. */
export function decodeHalfTypeScript(kind: HalfKind, src: Uint16Array, scale: number, dst: Float32Array): void {
  const n = src.length;
  const pairs = LITTLE_ENDIAN && src.byteOffset % 4 === 0 ? new Int32Array(src.buffer, src.byteOffset, n >> 1) : null;
  let i = 0;
  if (kind === 'bf16') {
    const wide = new Int32Array(dst.buffer, dst.byteOffset, n);
    if (pairs) {
      for (let j = 0; j < pairs.length; j++) {
        const w = pairs[j];
        wide[2 * j] = w << 16;
        wide[2 * j + 1] = w & 0xffff0000;
      }
      i = 2 * pairs.length;
    }
    for (; i < n; i++) wide[i] = src[i] << 16;
  } else {
    const table = f16Table();
    const inverse = 1 / scale; // exact: scale is a power of two
    if (pairs) {
      for (let j = 0; j < pairs.length; j++) {
        const w = pairs[j];
        dst[2 * j] = table[w & 0xffff] * inverse;
        dst[2 * j + 1] = table[w >>> 16] * inverse;
      }
      i = 2 * pairs.length;
    }
    for (; i < n; i++) dst[i] = table[src[i]] * inverse;
  }
}

let F16_TABLE: Float32Array | null = null;

/** All 65,536 binary16 values, built on first use (256 KB): decoding is one lookup per value. */
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16Value(h);
  }
  return F16_TABLE;
}
