// AssemblyScript source of the WebAssembly SIMD elementwise kernels (compiled by
// `npm run build:wasm`, embedded into src/kernels/elementwise-wasm-bytes.ts by
// scripts/embed-wasm-module.mjs; the wrapper is src/kernels/elementwise-wasm.ts). Not part
// of the TypeScript build: it uses AssemblyScript's v128 builtins.
//
// Every kernel here is BIT-IDENTICAL to its TypeScript reference in
// src/kernels/elementwise-reference.ts, which computes in float64 and rounds once to float32
// on store (except Adam, which works in float32, each operation rounded, and sumSquares,
// which returns its float64 sums). The rules that keep it so:
//  - a single +, −, × of two float32 values may be done in float32 (f32x4): the float64
//    result rounded to float32 equals the float32 operation (double rounding is innocuous
//    for one operation, 53 ≥ 2·24 + 2);
//  - anything longer (a product then a sum, BatchNorm's affine maps, the float64 moments)
//    is done in float64 lanes (f64x2) in the same order as the TypeScript, with no fused
//    multiply-add (WebAssembly has none outside relaxed SIMD);
//  - sums over rows keep the row order per channel: lanes run across channels, never
//    across rows.
//
// All addresses are byte offsets chosen by the wrapper, which copies the operands into
// linear memory and the results out; f32 buffers 4-byte, f64 buffers 8-byte aligned.

/** First free byte of linear memory (the wrapper's arena starts here). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

// ---------------------------------------------------------------------------------------
// Sum of squares (the gradient norm).

/**
 * acc[i & 3] += x[i]² for i < n, in float64 (a float32 square is exact there): four
 * interleaved sums, two f64x2 lanes each. acc holds 4 doubles and carries across calls, so
 * a buffer taken in pieces whose lengths are multiples of 4 sums exactly as in one go.
 */
export function sumSquares(x: usize, n: i32, acc: usize): void {
  let lo = v128.load(acc), hi = v128.load(acc, 16);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const a = f64x2.promote_low_f32x4(v), b = f64x2.promote_low_f32x4(high(v));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  v128.store(acc, lo);
  v128.store(acc, hi, 16);
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    const at = acc + (<usize>(i & 3) << 3);
    store<f64>(at, load<f64>(at) + v * v);
  }
}

// ---------------------------------------------------------------------------------------
// ReLU and multiplication by a constant mask.

/** y[i] = x[i] > 0 ? x[i] : 0 (NaN and −0 give +0). */
export function reluForward(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, v128.and(v, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v > 0 ? v : 0);
  }
}

/**
 * gx[i] += g[i] · (x[i] > 0 ? 1 : 0). g·d is exact, so one float32 add remains. Without
 * `add` gx is not read: it gets 0 + that, what adding into zeros would give.
 */
export function reluBackward(x: usize, g: usize, gx: usize, n: i32, add: bool): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = v128.and(one, f32x4.gt(v128.load(x + o), zero));
    v128.store(gx + o, f32x4.add(add ? v128.load(gx + o) : zero, f32x4.mul(v128.load(g + o), d)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d: f32 = load<f32>(x + o) > 0 ? 1 : 0;
    store<f32>(gx + o, (add ? load<f32>(gx + o) : 0) + load<f32>(g + o) * d);
  }
}

// ---------------------------------------------------------------------------------------
// tanh, as tanh64 in the reference defines it: expm1 by range reduction and a Taylor
// polynomial, then tanh = e/(e + 2) with x's sign. Only +, −, ×, ÷, floor and exact powers
// of two, in float64 lanes in the reference's order, so the bits agree.

const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
const INV_LN2: f64 = 1.4426950408889634;
const TANH_CLAMP: f64 = 19.5;
const E2: f64 = 0.5;
const E3: f64 = 0.16666666666666666;
const E4: f64 = 0.041666666666666664;
const E5: f64 = 0.008333333333333333;
const E6: f64 = 0.001388888888888889;
const E7: f64 = 0.0001984126984126984;
const E8: f64 = 0.0000248015873015873;
const E9: f64 = 0.0000027557319223985893;
const E10: f64 = 2.755731922398589e-7;
const E11: f64 = 2.505210838544172e-8;

/** tanh of two float64 lanes. */
// @ts-ignore: decorator
@inline function tanhLanes(x: v128): v128 {
  const a = f64x2.min(f64x2.abs(x), f64x2.splat(TANH_CLAMP));
  const y = f64x2.add(a, a);
  const k = f64x2.floor(f64x2.add(f64x2.mul(y, f64x2.splat(INV_LN2)), f64x2.splat(0.5)));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  // expm1(r) = r·q(r), q by Estrin's scheme (as the reference): short dependency chains.
  const r2 = f64x2.mul(r, r), r4 = f64x2.mul(r2, r2), r8 = f64x2.mul(r4, r4);
  const b0 = f64x2.add(f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.splat(E2), r)), f64x2.mul(f64x2.add(f64x2.splat(E3), f64x2.mul(f64x2.splat(E4), r)), r2));
  const b1 = f64x2.add(f64x2.add(f64x2.splat(E5), f64x2.mul(f64x2.splat(E6), r)), f64x2.mul(f64x2.add(f64x2.splat(E7), f64x2.mul(f64x2.splat(E8), r)), r2));
  const b2 = f64x2.add(f64x2.add(f64x2.splat(E9), f64x2.mul(f64x2.splat(E10), r)), f64x2.mul(f64x2.splat(E11), r2));
  const p = f64x2.mul(r, f64x2.add(f64x2.add(b0, f64x2.mul(b1, r4)), f64x2.mul(b2, r8)));
  // 2^k from its bits (k is 0 to 56; NaN lanes give 2^0 and stay NaN through p).
  const s = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k)), i64x2.splat(1023)), 52);
  const em1 = f64x2.add(f64x2.mul(s, p), f64x2.sub(s, f64x2.splat(1)));
  const t = f64x2.div(em1, f64x2.add(em1, f64x2.splat(2)));
  return v128.or(t, v128.and(x, i64x2.splat(0x8000000000000000))); // t ≥ +0: x's sign (±0 stay ±0)
}

/**
 * y[i] = tanh(x[i]), rounded once to float32. The tail of fewer than 4 goes through the
 * lanes too: the wrapper's arena pads every operand to 16 bytes, so the last load stays
 * inside x's slot, and only the real lanes are stored.
 */
export function tanhForward(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const lo = tanhLanes(f64x2.promote_low_f32x4(v)), hi = tanhLanes(f64x2.promote_low_f32x4(high(v)));
    const t = v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
    if (i + 4 <= n) { v128.store(y + o, t); continue; }
    store<f32>(y + o, f32x4.extract_lane(t, 0));
    if (i + 1 < n) store<f32>(y + o, f32x4.extract_lane(t, 1), 4);
    if (i + 2 < n) store<f32>(y + o, f32x4.extract_lane(t, 2), 8);
  }
}

/**
 * gx[i] += g[i] · (1 − y[i]²) from tanh's outputs y, in float64 and rounded once; without
 * `add` gx is not read (0 + that, as reluBackward).
 */
export function tanhBackward(y: usize, g: usize, gx: usize, n: i32, add: bool): void {
  const one = f64x2.splat(1), zero = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const yv = v128.load(y + o), gv = v128.load(g + o), xv = add ? v128.load(gx + o) : f32x4.splat(0);
    const y0 = f64x2.promote_low_f32x4(yv), y1 = f64x2.promote_low_f32x4(high(yv));
    const d0 = f64x2.mul(f64x2.promote_low_f32x4(gv), f64x2.sub(one, f64x2.mul(y0, y0)));
    const d1 = f64x2.mul(f64x2.promote_low_f32x4(high(gv)), f64x2.sub(one, f64x2.mul(y1, y1)));
    const r0 = f64x2.add(add ? f64x2.promote_low_f32x4(xv) : zero, d0);
    const r1 = f64x2.add(add ? f64x2.promote_low_f32x4(high(xv)) : zero, d1);
    v128.store(gx + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(r0), f32x4.demote_f64x2_zero(r1), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const yi = <f64>load<f32>(y + o);
    store<f32>(gx + o, <f32>((add ? <f64>load<f32>(gx + o) : 0) + <f64>load<f32>(g + o) * (1 - yi * yi)));
  }
}

/** y[i] = x[i] · m[i] (one float32 multiply). */
export function mul(x: usize, m: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(x + o), v128.load(m + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * load<f32>(m + o));
  }
}

/** Index of the first NaN or ±∞ among x[0, n) (all exponent bits set), or -1. */
export function firstNonFinite(x: usize, n: i32): i32 {
  const EXP = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = i32x4.eq(v128.and(v128.load(p), EXP), EXP), b = i32x4.eq(v128.and(v128.load(p, 16), EXP), EXP);
    const c = i32x4.eq(v128.and(v128.load(p, 32), EXP), EXP), d = i32x4.eq(v128.and(v128.load(p, 48), EXP), EXP);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break; // the scalar loop below finds which
  }
  for (; i < n; i++) if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  return -1;
}

/** y[i] += x[i]: one float32 add. Without `add` y is not read: it gets 0 + x[i]. */
export function accumulate(x: usize, y: usize, n: i32, add: bool): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(add ? v128.load(y + o) : zero, v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, (add ? load<f32>(y + o) : 0) + load<f32>(x + o));
  }
}

/** y[i] = a·y[i] + b·x[i], in float64 and rounded once (the EMA's update). */
export function axpby(x: usize, y: usize, n: i32, a: f64, b: f64): void {
  const A = f64x2.splat(a), B = f64x2.splat(b);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o), yv = v128.load(y + o);
    const lo = f64x2.add(f64x2.mul(A, f64x2.promote_low_f32x4(yv)), f64x2.mul(B, f64x2.promote_low_f32x4(xv)));
    const hi = f64x2.add(f64x2.mul(A, f64x2.promote_low_f32x4(high(yv))), f64x2.mul(B, f64x2.promote_low_f32x4(high(xv))));
    v128.store(y + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>(a * <f64>load<f32>(y + o) + b * <f64>load<f32>(x + o)));
  }
}

/** Lanes 2, 3 of a f32x4 moved to lanes 0, 1 (to promote the high half). */
// @ts-ignore: decorator
@inline function high(v: v128): v128 {
  return v128.shuffle<i32>(v, v, 2, 3, 2, 3);
}

/**
 * gx[i] += g[i] · m[i], in float64 (the product is exact there, the sum rounds twice);
 * without `add` gx is not read (0 + that, as reluBackward).
 */
export function mulAccumulate(g: usize, m: usize, gx: usize, n: i32, add: bool): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o), mv = v128.load(m + o), av = add ? v128.load(gx + o) : zero;
    const lo = f64x2.add(f64x2.promote_low_f32x4(av), f64x2.mul(f64x2.promote_low_f32x4(gv), f64x2.promote_low_f32x4(mv)));
    const hi = f64x2.add(f64x2.promote_low_f32x4(high(av)), f64x2.mul(f64x2.promote_low_f32x4(high(gv)), f64x2.promote_low_f32x4(high(mv))));
    v128.store(gx + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, <f32>((add ? <f64>load<f32>(gx + o) : 0) + <f64>load<f32>(g + o) * <f64>load<f32>(m + o)));
  }
}

// ---------------------------------------------------------------------------------------
// BatchNorm over [rows, c] (channels last). Channel blocks of 4 (two f64x2 lanes), rows in
// order within each block, accumulators in registers; leftover channels one at a time.

/** Per-channel mean and M2 = Σ(x − mean)², two passes in float64 (channelMoments). */
export function channelMoments(x: usize, rows: i32, c: i32, mean: usize, m2: usize): void {
  const stride = <usize>c << 2;
  let j = 0;
  for (; j + 4 <= c; j += 4) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    let p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += stride) {
      const v = v128.load(p);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(high(v)));
    }
    if (rows > 0) {
      const d = f64x2.splat(<f64>rows);
      s0 = f64x2.div(s0, d);
      s1 = f64x2.div(s1, d);
    }
    let q0 = f64x2.splat(0), q1 = f64x2.splat(0);
    p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += stride) {
      const v = v128.load(p);
      const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), s0);
      const d1 = f64x2.sub(f64x2.promote_low_f32x4(high(v)), s1);
      q0 = f64x2.add(q0, f64x2.mul(d0, d0));
      q1 = f64x2.add(q1, f64x2.mul(d1, d1));
    }
    const mo = mean + (<usize>j << 3), qo = m2 + (<usize>j << 3);
    v128.store(mo, s0); v128.store(mo, s1, 16);
    v128.store(qo, q0); v128.store(qo, q1, 16);
  }
  for (; j < c; j++) {
    let s: f64 = 0;
    let p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += stride) s += <f64>load<f32>(p);
    if (rows > 0) s /= <f64>rows;
    let q: f64 = 0;
    p = x + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += stride) { const d = <f64>load<f32>(p) - s; q += d * d; }
    store<f64>(mean + (<usize>j << 3), s);
    store<f64>(m2 + (<usize>j << 3), q);
  }
}

/**
 * h = (x − mean)·invStd, xhat = h (rounded), y = gamma·h + beta (from the unrounded h),
 * all in float64 per element.
 */
export function batchNormNormalize(
  x: usize, rows: i32, c: i32, mean: usize, invStd: usize, gamma: usize, beta: usize, xhat: usize, y: usize,
): void {
  let j = 0;
  for (; j + 4 <= c; j += 4) {
    const jo4 = <usize>j << 2, jo8 = <usize>j << 3;
    const m0 = v128.load(mean + jo8), m1 = v128.load(mean + jo8, 16);
    const i0 = v128.load(invStd + jo8), i1 = v128.load(invStd + jo8, 16);
    const gv = v128.load(gamma + jo4), bv = v128.load(beta + jo4);
    const g0 = f64x2.promote_low_f32x4(gv), g1 = f64x2.promote_low_f32x4(high(gv));
    const b0 = f64x2.promote_low_f32x4(bv), b1 = f64x2.promote_low_f32x4(high(bv));
    let o = jo4;
    const stride = <usize>c << 2;
    for (let r = 0; r < rows; r++, o += stride) {
      const v = v128.load(x + o);
      const h0 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), m0), i0);
      const h1 = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(high(v)), m1), i1);
      v128.store(xhat + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(h0), f32x4.demote_f64x2_zero(h1), 0, 1, 4, 5));
      const y0 = f64x2.add(f64x2.mul(g0, h0), b0);
      const y1 = f64x2.add(f64x2.mul(g1, h1), b1);
      v128.store(y + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(y0), f32x4.demote_f64x2_zero(y1), 0, 1, 4, 5));
    }
  }
  for (; j < c; j++) {
    const mj = load<f64>(mean + (<usize>j << 3)), ij = load<f64>(invStd + (<usize>j << 3));
    const gj = <f64>load<f32>(gamma + (<usize>j << 2)), bj = <f64>load<f32>(beta + (<usize>j << 2));
    for (let r = 0; r < rows; r++) {
      const o = (<usize>r * c + j) << 2;
      const h = (<f64>load<f32>(x + o) - mj) * ij;
      store<f32>(xhat + o, <f32>h);
      store<f32>(y + o, <f32>(gj * h + bj));
    }
  }
}

/** sumDy[j] = Σ_r g, sumDyXhat[j] = Σ_r g·xhat, float64, rows in order (overwrites). */
export function batchNormBackwardSums(g: usize, xhat: usize, rows: i32, c: i32, sumDy: usize, sumDyXhat: usize): void {
  const stride = <usize>c << 2;
  let j = 0;
  for (; j + 4 <= c; j += 4) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
    let o = <usize>j << 2;
    for (let r = 0; r < rows; r++, o += stride) {
      const gv = v128.load(g + o), hv = v128.load(xhat + o);
      const gl = f64x2.promote_low_f32x4(gv), gh = f64x2.promote_low_f32x4(high(gv));
      a0 = f64x2.add(a0, gl);
      a1 = f64x2.add(a1, gh);
      b0 = f64x2.add(b0, f64x2.mul(gl, f64x2.promote_low_f32x4(hv)));
      b1 = f64x2.add(b1, f64x2.mul(gh, f64x2.promote_low_f32x4(high(hv))));
    }
    const jo8 = <usize>j << 3;
    v128.store(sumDy + jo8, a0); v128.store(sumDy + jo8, a1, 16);
    v128.store(sumDyXhat + jo8, b0); v128.store(sumDyXhat + jo8, b1, 16);
  }
  for (; j < c; j++) {
    let a: f64 = 0, b: f64 = 0;
    let o = <usize>j << 2;
    for (let r = 0; r < rows; r++, o += stride) {
      const gj = <f64>load<f32>(g + o);
      a += gj;
      b += gj * <f64>load<f32>(xhat + o);
    }
    store<f64>(sumDy + (<usize>j << 3), a);
    store<f64>(sumDyXhat + (<usize>j << 3), b);
  }
}

/**
 * gx += scale·(g − meanDy − xhat·meanDyXhat), float64 per element in that order; without
 * `add` gx is not read (0 + that, as reluBackward).
 */
export function batchNormBackwardDx(
  g: usize, xhat: usize, rows: i32, c: i32, scale: usize, meanDy: usize, meanDyXhat: usize, gx: usize, add: bool,
): void {
  const zero = f32x4.splat(0);
  const stride = <usize>c << 2;
  let j = 0;
  for (; j + 4 <= c; j += 4) {
    const jo8 = <usize>j << 3;
    const s0 = v128.load(scale + jo8), s1 = v128.load(scale + jo8, 16);
    const d0 = v128.load(meanDy + jo8), d1 = v128.load(meanDy + jo8, 16);
    const e0 = v128.load(meanDyXhat + jo8), e1 = v128.load(meanDyXhat + jo8, 16);
    let o = <usize>j << 2;
    for (let r = 0; r < rows; r++, o += stride) {
      const gv = v128.load(g + o), hv = v128.load(xhat + o), av = add ? v128.load(gx + o) : zero;
      const t0 = f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(gv), d0), f64x2.mul(f64x2.promote_low_f32x4(hv), e0));
      const t1 = f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(high(gv)), d1), f64x2.mul(f64x2.promote_low_f32x4(high(hv)), e1));
      const r0 = f64x2.add(f64x2.promote_low_f32x4(av), f64x2.mul(s0, t0));
      const r1 = f64x2.add(f64x2.promote_low_f32x4(high(av)), f64x2.mul(s1, t1));
      v128.store(gx + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(r0), f32x4.demote_f64x2_zero(r1), 0, 1, 4, 5));
    }
  }
  for (; j < c; j++) {
    const sj = load<f64>(scale + (<usize>j << 3)), dj = load<f64>(meanDy + (<usize>j << 3)), ej = load<f64>(meanDyXhat + (<usize>j << 3));
    let o = <usize>j << 2;
    for (let r = 0; r < rows; r++, o += stride) {
      const t = <f64>load<f32>(g + o) - dj - <f64>load<f32>(xhat + o) * ej;
      store<f32>(gx + o, <f32>((add ? <f64>load<f32>(gx + o) : 0) + sj * t));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Philox4x32-10 (src/rng.ts): the 32-bit products are exact 64-bit ones here
// (i64x2.extmul_*_i32x4_u), four counter blocks per iteration in i32x4 lanes.

const M0: u32 = 0xd2511f53;
const M1: u32 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** Scratch for one scalar block (four u32). */
let b0: u32 = 0, b1: u32 = 0, b2: u32 = 0, b3: u32 = 0;

function philoxScalar(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  let x0 = c0, x1 = c1, x2 = c2, x3 = c3;
  for (let r = 0; r < 10; r++) {
    const p0 = <u64>M0 * <u64>x0;
    const p1 = <u64>M1 * <u64>x2;
    x0 = <u32>(p1 >> 32) ^ x1 ^ k0;
    x1 = <u32>p1;
    x2 = <u32>(p0 >> 32) ^ x3 ^ k1;
    x3 = <u32>p0;
    k0 += W0;
    k1 += W1;
  }
  b0 = x0; b1 = x1; b2 = x2; b3 = x3;
}

// @ts-ignore: decorator
@inline function emit(out: usize, i: i32, word: u32, threshold: i32, value: f32): void {
  const q = word >>> 8;
  store<f32>(out + (<usize>i << 2), threshold < 0 ? <f32>q * (1.0 / 16777216.0) : (q >= <u32>threshold ? value : 0));
}

// @ts-ignore: decorator
@inline function emit4(dst: usize, words: v128, threshold: i32, thr: v128, val: v128, scale: v128): void {
  const q = i32x4.shr_u(words, 8);
  v128.store(dst, threshold < 0 ? f32x4.mul(f32x4.convert_i32x4_u(q), scale) : v128.and(i32x4.ge_u(q, thr), val));
}

/**
 * n outputs from word `w0` (0..3) of counter block `blk` = blkHi·2³² + blkLo onwards, stream
 * (s0, s1), key (k0, k1): uniforms (word >>> 8)/2²⁴ when threshold < 0, else the keep mask
 * (word >>> 8) >= threshold ? value : 0. Same words as CounterRng.fillUniform / fillMask.
 */
export function philoxFill(
  out: usize, n: i32, blkLo: u32, blkHi: u32, w0: i32, s0: u32, s1: u32, k0: u32, k1: u32, threshold: i32, value: f32,
): void {
  let blk: u64 = (<u64>blkHi << 32) | <u64>blkLo;
  let i = 0;
  if (w0 != 0) {
    philoxScalar(<u32>blk, <u32>(blk >> 32), s0, s1, k0, k1);
    for (let w = w0; w < 4 && i < n; w++, i++) emit(out, i, w == 1 ? b1 : w == 2 ? b2 : b3, threshold, value);
    blk++;
  }
  const m0 = i32x4.splat(M0), m1 = i32x4.splat(M1);
  const thr = i32x4.splat(threshold), val = f32x4.splat(value), scale = f32x4.splat(1.0 / 16777216.0);
  const sv0 = i32x4.splat(s0), sv1 = i32x4.splat(s1);
  for (; i + 16 <= n; i += 16, blk += 4) {
    const b = <u32>blk;
    let x0 = i32x4(b, b + 1, b + 2, b + 3);
    // High counter words: blk + lane, carrying into the high half where the low one wraps.
    let x1 = i32x4(<u32>(blk >> 32), <u32>((blk + 1) >> 32), <u32>((blk + 2) >> 32), <u32>((blk + 3) >> 32));
    let x2 = sv0, x3 = sv1;
    let key0 = k0, key1 = k1;
    for (let r = 0; r < 10; r++) {
      const p0l = i64x2.extmul_low_i32x4_u(m0, x0), p0h = i64x2.extmul_high_i32x4_u(m0, x0);
      const p1l = i64x2.extmul_low_i32x4_u(m1, x2), p1h = i64x2.extmul_high_i32x4_u(m1, x2);
      const hi0 = v128.shuffle<i32>(p0l, p0h, 1, 3, 5, 7), lo0 = v128.shuffle<i32>(p0l, p0h, 0, 2, 4, 6);
      const hi1 = v128.shuffle<i32>(p1l, p1h, 1, 3, 5, 7), lo1 = v128.shuffle<i32>(p1l, p1h, 0, 2, 4, 6);
      x0 = v128.xor(v128.xor(hi1, x1), i32x4.splat(key0));
      x1 = lo1;
      x2 = v128.xor(v128.xor(hi0, x3), i32x4.splat(key1));
      x3 = lo0;
      key0 += W0;
      key1 += W1;
    }
    // Lanes are blocks, registers words: transpose to block-major order.
    const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5);
    const t2 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
    const dst = out + (<usize>i << 2);
    emit4(dst, v128.shuffle<i64>(t0, t1, 0, 2), threshold, thr, val, scale);
    emit4(dst + 16, v128.shuffle<i64>(t0, t1, 1, 3), threshold, thr, val, scale);
    emit4(dst + 32, v128.shuffle<i64>(t2, t3, 0, 2), threshold, thr, val, scale);
    emit4(dst + 48, v128.shuffle<i64>(t2, t3, 1, 3), threshold, thr, val, scale);
  }
  for (; i < n; blk++) {
    philoxScalar(<u32>blk, <u32>(blk >> 32), s0, s1, k0, k1);
    if (i < n) { emit(out, i, b0, threshold, value); i++; }
    if (i < n) { emit(out, i, b1, threshold, value); i++; }
    if (i < n) { emit(out, i, b2, threshold, value); i++; }
    if (i < n) { emit(out, i, b3, threshold, value); i++; }
  }
}

// ---------------------------------------------------------------------------------------
// Adam (src/optim/adam.ts), float32 lanes in the TypeScript order (adam32 in
// elementwise-reference.ts), each operation rounded, constants rounded to float32 first:
//   g' = g + l2·p;  m = β1·m + (1 − β1)·g';  v = β2·v + ((1 − β2)·g')·g'
//   p = p·shrink − (stepSize·m) / (√v / bc2Sqrt + eps)
// No fused multiply-add, so the float32 operations are exactly the reference's.

/** In place over n float32 params, grads, exp_avg and exp_avg_sq. */
export function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  stepSize: f64, bc2Sqrt: f64, beta1: f64, beta2: f64, eps: f64, l2: f64, shrink: f64,
): void {
  const b1 = <f32>beta1, b2 = <f32>beta2, c1 = <f32>(1 - beta1), c2 = <f32>(1 - beta2);
  const ss = <f32>stepSize, bc = <f32>bc2Sqrt, e = <f32>eps, wd = <f32>l2, sh = <f32>shrink;
  const B1 = f32x4.splat(b1), B2 = f32x4.splat(b2), C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  const SS = f32x4.splat(ss), BC = f32x4.splat(bc), E = f32x4.splat(e), L2 = f32x4.splat(wd), SH = f32x4.splat(sh);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    const gv = f32x4.add(v128.load(g + o), f32x4.mul(L2, pv));
    const mv = f32x4.add(f32x4.mul(B1, v128.load(m + o)), f32x4.mul(C1, gv));
    const vv = f32x4.add(f32x4.mul(B2, v128.load(v + o)), f32x4.mul(f32x4.mul(C2, gv), gv));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), BC), E);
    v128.store(p + o, f32x4.sub(f32x4.mul(pv, SH), f32x4.div(f32x4.mul(SS, mv), denom)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pi = load<f32>(p + o);
    const gi = load<f32>(g + o) + wd * pi;
    const mi = b1 * load<f32>(m + o) + c1 * gi;
    const vi = b2 * load<f32>(v + o) + c2 * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, pi * sh - (ss * mi) / (Mathf.sqrt(vi) / bc + e));
  }
}

// ---------------------------------------------------------------------------------------
// 16-bit float transport (--grad-dtype): float32 to IEEE binary16 / bfloat16 bit patterns
// and back, bit for bit what packages/protocol/src/half.ts defines (f16Bits, bf16Bits,
// f16Value, bf16Value) and tested there, on the float32 bit patterns with integer lanes.
// Patterns are u16, 2-byte aligned. The wrapper calls them per piece of 8192 values, so a
// value that sends a call to its scalar form does so for its piece only.

/** Eight u16 patterns from the i32 lanes of a then b, each in [0, 0xffff] (packusdw: no saturation happens). */
@inline function narrow16(a: v128, b: v128): v128 {
  return i16x8.narrow_i32x4_u(a, b);
}

/** The largest |x[i]| as float32 bits (non-NaN magnitudes order like these integers; NaN's exceed ∞'s). */
export function maxAbsBits(x: usize, n: i32): i32 {
  const ABS = i32x4.splat(0x7fffffff);
  let m0 = i32x4.splat(0), m1 = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    m0 = i32x4.max_s(m0, v128.and(v128.load(p), ABS));
    m1 = i32x4.max_s(m1, v128.and(v128.load(p, 16), ABS));
  }
  const m = i32x4.max_s(m0, m1);
  let best = max(max(i32x4.extract_lane(m, 0), i32x4.extract_lane(m, 1)), max(i32x4.extract_lane(m, 2), i32x4.extract_lane(m, 3)));
  for (; i < n; i++) best = max(best, load<i32>(x + (<usize>i << 2)) & 0x7fffffff);
  return best;
}

/** bf16Bits of a float32 bit pattern (scalar; the vector loop's lanes outside its fast range). */
function bf16One(u: u32): u16 {
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return 0x7fc0; // NaN
  const rounded = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  if (a >= 0x7f7f8000 && a < 0x7f800000) return <u16>((rounded & 0x8000) | 0x7f7f); // would round past the largest finite
  return <u16>rounded;
}

/**
 * h[i] = bf16Bits(x[i]): round to nearest even, one add and a shift on the bit pattern.
 * Below 0x7f7f8000 in magnitude that is all (no rounding reaches ∞). The loop notes,
 * without branching, whether any value was at or above it (NaN, ±∞, the top of the range),
 * and if so the scalar form redoes all n (a gradient has none, or is refused anyway).
 * Returns how many the lanes converted (0 when the scalar form redid them).
 */
export function toBf16(x: usize, h: usize, n: i32): i32 {
  const ABS = i32x4.splat(0x7fffffff), LIMIT = i32x4.splat(0x7f7f7fff), HALF = i32x4.splat(0x7fff), ONE = i32x4.splat(1);
  let largest = i32x4.splat(0); // the largest |x| pattern seen
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const u = v128.load(p), v = v128.load(p, 16);
    largest = i32x4.max_s(largest, i32x4.max_s(v128.and(u, ABS), v128.and(v, ABS)));
    const ru = i32x4.shr_u(i32x4.add(u, i32x4.add(HALF, v128.and(i32x4.shr_u(u, 16), ONE))), 16);
    const rv = i32x4.shr_u(i32x4.add(v, i32x4.add(HALF, v128.and(i32x4.shr_u(v, 16), ONE))), 16);
    v128.store(h + (<usize>i << 1), narrow16(ru, rv));
  }
  if (v128.any_true(i32x4.gt_s(largest, LIMIT))) i = 0;
  const lanes = i;
  for (; i < n; i++) store<u16>(h + (<usize>i << 1), bf16One(load<u32>(x + (<usize>i << 2))));
  return lanes;
}

/** x[i] = bf16Value(h[i]): the pattern as a float32's top half. */
export function fromBf16(h: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1)), p = x + (<usize>i << 2);
    v128.store(p, i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(p, i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; i < n; i++) store<u32>(x + (<usize>i << 2), <u32>load<u16>(h + (<usize>i << 1)) << 16);
}

/**
 * f16Bits(y) of a float32 value y (x·scale, rounded to float32), held at ±top as
 * f16Clamped does (scalar; the vector loop's lanes outside its fast range): NaN to
 * sign|0x7e00; |y| ≥ 0x477ff000 (65520 and up) to ±∞; below 2^-14 the subnormal |y|·2^24
 * rounded to the nearest even integer (exact in float32); otherwise the float32 pattern
 * re-biased (112 << 23) and shifted right 13, rounding to nearest even (a carry runs on
 * into the exponent).
 */
function f16One(y: f32, top: u32): u16 {
  const u = reinterpret<u32>(y);
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  let m: u32;
  if (a > 0x7f800000) m = 0x7e00;
  else if (a >= 0x477ff000) m = 0x7c00;
  else if (a < 0x38800000) m = <u32>nearest<f32>(reinterpret<f32>(a) * 16777216.0);
  else {
    const t = a - (112 << 23);
    m = (t + 0xfff + ((t >>> 13) & 1)) >>> 13;
  }
  if (m > top && m <= 0x7c00) m = top;
  return <u16>(sign | m);
}

/**
 * h[i] = f16Clamped(x[i], scale, top), scale a value float32 holds exactly (so the
 * float32 product is the float64 one rounded once). Every lane takes both the normal and
 * the subnormal form and picks one, which is all below 65520 in magnitude. The loop notes,
 * without branching, whether any value was at or above it (±∞, NaN, overflow), and if so
 * (or whenever top holds values below binary16's largest) the scalar form redoes them all.
 * Returns how many the lanes converted (0 when the scalar form redid them).
 */
export function toF16(x: usize, h: usize, n: i32, scale: f32, top: i32): i32 {
  const S = f32x4.splat(scale), ABS = i32x4.splat(0x7fffffff), LIMIT = i32x4.splat(0x477fefff);
  const BIAS = i32x4.splat(112 << 23), HALF = i32x4.splat(0xfff), ONE = i32x4.splat(1), SUB = i32x4.splat(0x38800000);
  const HALF_F = f32x4.splat(0.5), SIGN = i32x4.splat(0x8000);
  let largest = i32x4.splat(top < 0x7bff ? 0x7fffffff : 0); // the largest |y| pattern seen
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const y = f32x4.mul(v128.load(p), S), z = f32x4.mul(v128.load(p, 16), S);
    const a = v128.and(y, ABS), b = v128.and(z, ABS);
    largest = i32x4.max_s(largest, i32x4.max_s(a, b));
    v128.store(h + (<usize>i << 1), narrow16(
      f16Lanes(y, a, BIAS, HALF, ONE, SUB, HALF_F, SIGN),
      f16Lanes(z, b, BIAS, HALF, ONE, SUB, HALF_F, SIGN),
    ));
  }
  if (v128.any_true(i32x4.gt_s(largest, LIMIT))) i = 0;
  const lanes = i;
  for (; i < n; i++) store<u16>(h + (<usize>i << 1), f16One(load<f32>(x + (<usize>i << 2)) * scale, top));
  return lanes;
}

/**
 * f16One's two finite forms for four lanes below 65520 (a = |y|'s pattern), the constants
 * hoisted by the caller. The subnormal one is |y|·2^24 rounded to nearest even: |y| + 0.5
 * rounds |y| to units of 2^-24 (0.5's ulp), so its pattern less 0.5's is that integer.
 */
@inline function f16Lanes(y: v128, a: v128, BIAS: v128, HALF: v128, ONE: v128, SUB: v128, HALF_F: v128, SIGN: v128): v128 {
  const t = i32x4.sub(a, BIAS);
  const normal = i32x4.shr_u(i32x4.add(t, i32x4.add(HALF, v128.and(i32x4.shr_u(t, 13), ONE))), 13);
  const sub = i32x4.sub(f32x4.add(a, HALF_F), HALF_F);
  return v128.or(v128.and(i32x4.shr_u(y, 16), SIGN), v128.bitselect(sub, normal, i32x4.lt_s(a, SUB)));
}

/**
 * f16Value of four patterns (in i32 lanes) times `inverse` (1/scale, a value float32
 * holds exactly, so the float32 product is the float64 one rounded once): the exponent
 * re-biased into float32's (twice for ±∞ and NaN, which keeps them so), subnormals as
 * m·2^-24 (0.5 + m·2^-24 as a pattern, less 0.5). The constants are hoisted by the caller.
 */
@inline function f16Values(w: v128, inverse: v128, MAG: v128, BIAS: v128, HALF_BITS: v128, HALF_F: v128, NORMAL: v128, INF16: v128): v128 {
  const sign = i32x4.shl(i32x4.shr_u(w, 15), 31);
  const a = v128.and(w, MAG);
  const normal = i32x4.add(i32x4.add(i32x4.shl(a, 13), BIAS), v128.and(i32x4.gt_s(a, INF16), BIAS));
  const sub = f32x4.sub(i32x4.add(a, HALF_BITS), HALF_F); // (0.5 + m·2^-24) − 0.5, exact
  return f32x4.mul(v128.or(v128.bitselect(sub, normal, i32x4.lt_s(a, NORMAL)), sign), inverse);
}

/** x[i] = f16Value(h[i]) · inverse. */
export function fromF16(h: usize, x: usize, n: i32, inverse: f32): void {
  const INV = f32x4.splat(inverse), MAG = i32x4.splat(0x7fff), BIAS = i32x4.splat(112 << 23);
  const HALF_BITS = i32x4.splat(0x3f000000), HALF_F = f32x4.splat(0.5), NORMAL = i32x4.splat(0x0400), INF16 = i32x4.splat(0x7bff);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1)), p = x + (<usize>i << 2);
    v128.store(p, f16Values(i32x4.extend_low_i16x8_u(v), INV, MAG, BIAS, HALF_BITS, HALF_F, NORMAL, INF16));
    v128.store(p, f16Values(i32x4.extend_high_i16x8_u(v), INV, MAG, BIAS, HALF_BITS, HALF_F, NORMAL, INF16), 16);
  }
  for (; i < n; i++) {
    const w = i32x4.splat(<i32>load<u16>(h + (<usize>i << 1)));
    store<f32>(x + (<usize>i << 2), f32x4.extract_lane(f16Values(w, INV, MAG, BIAS, HALF_BITS, HALF_F, NORMAL, INF16), 0));
  }
}
