import type { FloatArray } from '../dtype.js';
import type { CounterRng, Stream } from '../rng.js';

/*
 * TypeScript reference kernels for the hot elementwise ops of training (ReLU, constant
 * masks, BatchNorm, dropout masks). They are the definition: the WebAssembly SIMD versions
 * (elementwise-wasm.ts) must reproduce them bit for bit, and they run wherever those do not
 * (float64, WebAssembly unavailable). Arithmetic is in float64, each result rounded once on
 * store, sums over rows in row order per channel; except Adam, which like PyTorch's works in
 * the parameters' precision.
 */

/**
 * Σ x[i]², float64: four sums by i mod 4, added as (s0 + s1) + (s2 + s3). Interleaved so
 * SIMD lanes can run them (and four adds are in flight rather than one chain); still one
 * fixed order, so every process that sums the same buffer gets the same bits.
 */
export function sumSquaresReference(x: FloatArray): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i] * x[i];
    switch (i & 3) {
      case 0: s0 += v; break;
      case 1: s1 += v; break;
      case 2: s2 += v; break;
      default: s3 += v;
    }
  }
  return (s0 + s1) + (s2 + s3);
}

/** Index of the first NaN or ±∞ in x, or -1 (v − v is 0 exactly for finite v). */
export function firstNonFiniteReference(x: FloatArray): number {
  for (let i = 0; i < x.length; i++) if (x[i] - x[i] !== 0) return i;
  return -1;
}

/** y[i] += x[i]; with `accumulate` false, y[i] = 0 + x[i] (y not read). */
export function accumulateReference(x: FloatArray, y: FloatArray, accumulate: boolean): void {
  if (accumulate) for (let i = 0; i < y.length; i++) y[i] += x[i];
  else for (let i = 0; i < y.length; i++) y[i] = 0 + x[i];
}

/** y[i] = Σ_k xs[k][i], added in list order (y may be xs[0]). */
export function addNReference(xs: readonly FloatArray[], y: FloatArray): void {
  if (xs.length === 0) throw new Error('addN needs at least one array to sum');
  if (xs[0] !== y) y.set(xs[0].length === y.length ? xs[0] : xs[0].subarray(0, y.length)); // a memcpy, as one member's sum is
  for (let k = 1; k < xs.length; k++) accumulateReference(xs[k], y, true);
}

/** y[i] = a·y[i] + b·x[i] (an exponential moving average's update with a = decay, b = 1 − decay). */
export function axpbyReference(x: FloatArray, y: FloatArray, a: number, b: number): void {
  for (let i = 0; i < y.length; i++) y[i] = a * y[i] + b * x[i];
}

/** ln 2 in two parts (k·LN2_HI is exact for the k here), and 1/ln 2: fdlibm's constants. */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = 1.4426950408889634;
/**
 * From |x| = 19.06 on, tanh(x) is ±1 even in float64 (1 − tanh ≈ 2e^(−2|x|) < 2^−54), so
 * larger arguments are clamped to 19.5, which keeps e^(2|x|) finite and still gives ±1.
 */
const TANH_CLAMP = 19.5;
/** 1/k! for k = 2 … 11: expm1's Taylor series, cut where the next term is about 2e-14 of it at |r| = ln2/2. */
const E2 = 0.5, E3 = 0.16666666666666666, E4 = 0.041666666666666664, E5 = 0.008333333333333333;
const E6 = 0.001388888888888889, E7 = 0.0001984126984126984, E8 = 0.0000248015873015873;
const E9 = 0.0000027557319223985893, E10 = 2.755731922398589e-7, E11 = 2.505210838544172e-8;
/** 2^k for the k of tanh64 (0 to 56), exact. */
const POW2 = Float64Array.from({ length: 57 }, (_, k) => 2 ** k);

/**
 * tanh in float64, from +, −, ×, ÷, floor and exact powers of two only, so that
 * WebAssembly's f64x2 lanes reproduce it bit for bit (Math.tanh is V8's own code, which no
 * SIMD kernel can match): with e = e^(2|x|) − 1, from 2|x| = k·ln2 + r (|r| ≤ ln2/2) as
 * 2^k·expm1(r) + (2^k − 1), tanh(x) = ±e/(e + 2). Within about 2.5e-14 of Math.tanh
 * (relative), far below float32's 6e-8, so float32 results round as Math.tanh's do on every
 * argument tried (bench/tanh.mjs sweeps them); only a value within that error of a float32
 * rounding boundary could differ.
 */
export function tanh64(x: number): number {
  const a = Math.min(Math.abs(x), TANH_CLAMP);
  const y = a + a;
  const k = Math.floor(y * INV_LN2 + 0.5);
  const r = (y - k * LN2_HI) - k * LN2_LO;
  // expm1(r) = r·q(r), q evaluated by Estrin's scheme: short dependency chains for SIMD lanes.
  const r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const b0 = (1 + E2 * r) + (E3 + E4 * r) * r2, b1 = (E5 + E6 * r) + (E7 + E8 * r) * r2, b2 = (E9 + E10 * r) + E11 * r2;
  const p = r * ((b0 + b1 * r4) + b2 * r8);
  const s = POW2[k]; // undefined for NaN: the result is then x itself
  const em1 = s * p + (s - 1);
  const t = em1 / (em1 + 2);
  return x < 0 ? -t : x > 0 ? t : x;
}

/** ys[i] = tanh64(xs[i]). */
export function tanhReference(xs: FloatArray, ys: FloatArray): void {
  for (let i = 0; i < xs.length; i++) ys[i] = tanh64(xs[i]);
}

/** gx[i] += g[i] · (1 − ys[i]²), from tanh's outputs; with `accumulate` false gx = 0 + that. */
export function tanhBackwardReference(ys: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void {
  for (let i = 0; i < g.length; i++) {
    const y = ys[i];
    gx[i] = (accumulate ? gx[i] : 0) + g[i] * (1 - y * y);
  }
}

/** ys[i] = xs[i] > 0 ? xs[i] : 0 (NaN and −0 give +0). */
export function reluReference(xs: FloatArray, ys: FloatArray): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    ys[i] = x > 0 ? x : 0;
  }
}

/**
 * gx[i] += g[i] · (xs[i] > 0 ? 1 : 0). The 0/1 comes from unary + on the comparison rather
 * than a conditional, which V8 compiles without a branch (the sign of a pre-activation is a
 * coin flip, and a mispredicted branch per element made this 3× slower).
 */
export function reluBackwardReference(xs: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void {
  if (accumulate) for (let i = 0; i < g.length; i++) gx[i] += g[i] * +(xs[i] > 0);
  else for (let i = 0; i < g.length; i++) gx[i] = 0 + g[i] * +(xs[i] > 0);
}

/** y[i] = x[i] · m[i]. */
export function mulReference(x: FloatArray, m: FloatArray, y: FloatArray): void {
  for (let i = 0; i < y.length; i++) y[i] = x[i] * m[i];
}

/** gx[i] += g[i] · m[i]; without `accumulate` gx[i] = 0 + g[i] · m[i], gx not read. */
export function mulAccumulateReference(g: FloatArray, m: FloatArray, gx: FloatArray, accumulate: boolean): void {
  if (accumulate) for (let i = 0; i < g.length; i++) gx[i] += g[i] * m[i];
  else for (let i = 0; i < g.length; i++) gx[i] = 0 + g[i] * m[i];
}

/**
 * Per-channel mean and M2 = Σ(x − mean)² of `x` viewed as [rows, c], two-pass in float64
 * so large means do not cancel the variance (the naive Σx² − (Σx)²/n does, in float32).
 */
export function channelMomentsReference(x: FloatArray, rows: number, c: number, mean: Float64Array, m2: Float64Array): void {
  mean.fill(0);
  m2.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) mean[j] += x[base + j];
  }
  if (rows > 0) for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) { const d = x[base + j] - mean[j]; m2[j] += d * d; }
  }
}

/** x̂ = (x − mean)·invStd and y = γ·x̂ + β over [rows, c]; y uses x̂ before its rounding. */
export function batchNormNormalizeReference(
  x: FloatArray, rows: number, c: number, mean: Float64Array, invStd: Float64Array,
  gamma: FloatArray, beta: FloatArray, xhat: FloatArray, y: FloatArray,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) {
      const h = (x[base + j] - mean[j]) * invStd[j];
      xhat[base + j] = h;
      y[base + j] = gamma[j] * h + beta[j];
    }
  }
}

/** sumDy[j] = Σ_r g and sumDyXhat[j] = Σ_r g·x̂ over [rows, c] (overwritten, not accumulated). */
export function batchNormBackwardSumsReference(
  g: FloatArray, xhat: FloatArray, rows: number, c: number, sumDy: Float64Array, sumDyXhat: Float64Array,
): void {
  sumDy.fill(0);
  sumDyXhat.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) { sumDy[j] += g[base + j]; sumDyXhat[j] += g[base + j] * xhat[base + j]; }
  }
}

/** gx += scale·(g − meanDy − x̂·meanDyXhat) over [rows, c]; or gx = 0 + that, without `accumulate`. */
export function batchNormBackwardDxReference(
  g: FloatArray, xhat: FloatArray, rows: number, c: number,
  scale: Float64Array, meanDy: Float64Array, meanDyXhat: Float64Array, gx: FloatArray, accumulate: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) {
      const v = scale[j] * (g[base + j] - meanDy[j] - xhat[base + j] * meanDyXhat[j]);
      gx[base + j] = (accumulate ? gx[base + j] : 0) + v;
    }
  }
}

/** out[i] = rng.uniform(stream, start + i) >= p ? value : 0: CounterRng.fillMask. */
export function keepMaskReference(out: FloatArray, rng: CounterRng, stream: Stream, start: number, p: number, value: number): void {
  rng.fillMask(out, stream, start, p, value);
}

/**
 * One Adam step in place (optim/adam.ts derives the constants): with g' = g + l2·p,
 *   m ← β1·m + (1 − β1)·g';  v ← β2·v + (1 − β2)·g'²;  p ← p·shrink − (stepSize·m)/(√v/bc2Sqrt + eps),
 * in the parameters' precision, as torch.optim.Adam does (not in its order of operations, so
 * not bit for bit): float32 parameters get float32 arithmetic, each operation rounded in
 * turn (the constants rounded to float32 first), which
 * SIMD float32 lanes reproduce bit for bit; float64 ones (gradient checks) float64.
 */
export function adamReference(
  params: FloatArray, grads: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray,
  stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number, l2: number, shrink: number,
): void {
  if (params instanceof Float32Array) {
    adam32(params, grads, expAvg, expAvgSq, stepSize, bc2Sqrt, beta1, beta2, eps, l2, shrink);
    return;
  }
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + l2 * params[i];
    const m = beta1 * expAvg[i] + (1 - beta1) * g;
    const v = beta2 * expAvgSq[i] + (1 - beta2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    params[i] = params[i] * shrink - (stepSize * m) / (Math.sqrt(v) / bc2Sqrt + eps);
  }
}

/**
 * adamReference in float32: every product, sum, quotient and root of float32 values is
 * computed in float64 and rounded once, which gives exactly the float32 operation (53 ≥ 2·24 + 2).
 */
function adam32(
  params: Float32Array, grads: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray,
  stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number, l2: number, shrink: number,
): void {
  const f = Math.fround;
  const B1 = f(beta1), B2 = f(beta2), C1 = f(1 - beta1), C2 = f(1 - beta2);
  const SS = f(stepSize), BC = f(bc2Sqrt), E = f(eps), L2 = f(l2), SH = f(shrink);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const g = f(grads[i] + f(L2 * p));
    const m = f(f(B1 * expAvg[i]) + f(C1 * g));
    const v = f(f(B2 * expAvgSq[i]) + f(f(C2 * g) * g));
    expAvg[i] = m;
    expAvgSq[i] = v;
    params[i] = f(f(p * SH) - f(f(SS * m) / f(f(f(Math.sqrt(v)) / BC) + E)));
  }
}
