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
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > max) max = a;
  }
  if (max === 0 || !Number.isFinite(max)) return 1;
  let scale = 2 ** (14 - Math.floor(Math.log2(max)));
  if (max * scale >= 2 ** 15) scale /= 2; // log2 rounded up across a power of two
  if (max * scale < 2 ** 14) scale *= 2;
  return Math.min(scale, 2 ** 126); // the largest gradScale the schema accepts (max |x| < 2^-112 lands lower)
}

export type HalfKind = 'f16' | 'bf16';

/** Writes `src` (times `scale` for f16) as 16-bit patterns into dst[0..src.length). */
export function encodeHalf(kind: HalfKind, src: Float32Array, scale: number, dst: Uint16Array): void {
  if (kind === 'bf16') {
    for (let i = 0; i < src.length; i++) dst[i] = bf16Bits(src[i]);
  } else {
    // Halves that would divide back out past float32's range (at scale 2^-113, a value within 2^-12 of
    // float32's largest rounds up to 2^15, i.e. 2^128) stay at the largest that does not, as bf16Bits
    // keeps finite values finite.
    let top = 0x7bff;
    while (!Number.isFinite(Math.fround(f16Value(top) / scale))) top--;
    for (let i = 0; i < src.length; i++) {
      const h = f16Bits(src[i] * scale);
      const a = h & 0x7fff;
      dst[i] = a > top && a <= 0x7c00 ? (h & 0x8000) | top : h;
    }
  }
}

/** Decodes 16-bit patterns (divided by `scale` for f16) into dst[0..src.length). */
export function decodeHalf(kind: HalfKind, src: Uint16Array, scale: number, dst: Float32Array): void {
  if (kind === 'bf16') {
    const wide = new Uint32Array(dst.buffer, dst.byteOffset, src.length);
    for (let i = 0; i < src.length; i++) wide[i] = src[i] << 16;
  } else {
    const table = f16Table();
    const inverse = 1 / scale; // exact: scale is a power of two
    for (let i = 0; i < src.length; i++) dst[i] = table[src[i]] * inverse;
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
