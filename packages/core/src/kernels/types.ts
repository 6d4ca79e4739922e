import type { FloatArray } from '../dtype.js';
import type { CounterRng, Stream } from '../rng.js';

/**
 * The kernel seam (DESIGN 4): every hot loop of autodiff and layers goes through one of
 * these, so a faster implementation (blocked TypeScript, WebAssembly SIMD) replaces it
 * without touching ops or layers. Kernels write into buffers they are given and never
 * allocate in their loops. All are row-major.
 */
export interface Kernels {
  /**
   * C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`. op(A) is M×K: A is stored M×K,
   * or K×M when `transA`. op(B) is K×N: B is stored K×N, or N×K when `transB`.
   */
  matmul(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void;

  // Elementwise kernels of training's hot path and the Adam update. elementwise-reference.ts
  // defines them; a replacement must reproduce them bit for bit, since RNG streams,
  // checkpoints and distributed equivalence depend on exact values. Matrices are [rows, c],
  // channels last.

  /** Σ x[i]² in float64, as four sums by i mod 4 added (s0 + s1) + (s2 + s3). */
  sumSquares(x: FloatArray): number;
  /** Index of the first NaN or ±∞ in x, or -1 (the wire format's finite check). */
  firstNonFinite(x: FloatArray): number;
  /**
   * y[i] += x[i] (x at least as long as y); with `accumulate` false y is only written, as
   * 0 + x[i] (bit for bit what adding into zeros gives), as reluBackward.
   */
  accumulate(x: FloatArray, y: FloatArray, accumulate: boolean): void;
  /**
   * y[i] = ((xs[0][i] + xs[1][i]) + xs[2][i]) + … in list order, as copying xs[0] and then
   * accumulating the rest gives bit for bit, in one pass over y (a gradient sum over workers
   * or threads; TensorFlow's AddN). Each x is at least as long as y; y may be xs[0] itself
   * but no other of them.
   */
  addN(xs: readonly FloatArray[], y: FloatArray): void;
  /** y[i] = a·y[i] + b·x[i] (x at least as long as y). */
  axpby(x: FloatArray, y: FloatArray, a: number, b: number): void;
  /** ys[i] = tanh(xs[i]) as elementwise-reference.ts's tanh64 defines it (not Math.tanh). */
  tanh(xs: FloatArray, ys: FloatArray): void;
  /** gx[i] += g[i] · (1 − ys[i]²) from tanh's outputs ys; with `accumulate` false gx = 0 + that, as reluBackward. */
  tanhBackward(ys: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void;
  /** ys[i] = xs[i] > 0 ? xs[i] : 0. */
  relu(xs: FloatArray, ys: FloatArray): void;
  /**
   * gx[i] += g[i] · (xs[i] > 0 ? 1 : 0). With `accumulate` false gx is only written, as
   * 0 + that (bit for bit what adding into zeros gives): a first gradient needs no zeroing.
   */
  reluBackward(xs: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void;
  /** y[i] = x[i] · m[i]. */
  mul(x: FloatArray, m: FloatArray, y: FloatArray): void;
  /** gx[i] += g[i] · m[i]; with `accumulate` false gx = 0 + that, as reluBackward. */
  mulAccumulate(g: FloatArray, m: FloatArray, gx: FloatArray, accumulate: boolean): void;
  /** Per-channel mean and M2 = Σ(x − mean)², two-pass, float64. */
  channelMoments(x: FloatArray, rows: number, c: number, mean: Float64Array, m2: Float64Array): void;
  /** x̂ = (x − mean)·invStd, y = γ·x̂ + β (from x̂ before rounding). */
  batchNormNormalize(
    x: FloatArray, rows: number, c: number, mean: Float64Array, invStd: Float64Array,
    gamma: FloatArray, beta: FloatArray, xhat: FloatArray, y: FloatArray,
  ): void;
  /** sumDy[j] = Σ_r g, sumDyXhat[j] = Σ_r g·x̂ (overwritten). */
  batchNormBackwardSums(g: FloatArray, xhat: FloatArray, rows: number, c: number, sumDy: Float64Array, sumDyXhat: Float64Array): void;
  /** gx += scale·(g − meanDy − x̂·meanDyXhat); with `accumulate` false gx = 0 + that, as reluBackward. */
  batchNormBackwardDx(
    g: FloatArray, xhat: FloatArray, rows: number, c: number,
    scale: Float64Array, meanDy: Float64Array, meanDyXhat: Float64Array, gx: FloatArray, accumulate: boolean,
  ): void;
  /**
   * One Adam step in place, the constants derived by optim/adam.ts: with g' = g + l2·p,
   * m ← β1·m + (1 − β1)·g', v ← β2·v + (1 − β2)·g'², p ← p·shrink − (stepSize·m)/(√v/bc2Sqrt + eps),
   * in the parameters' precision (float32: each operation rounded, in this order).
   */
  adam(
    params: FloatArray, grads: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray,
    stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number, l2: number, shrink: number,
  ): void;
  /** out[i] = rng.uniform(stream, start + i) >= p ? value : 0 (inverted dropout's mask). */
  keepMask(out: FloatArray, rng: CounterRng, stream: Stream, start: number, p: number, value: number): void;
}
