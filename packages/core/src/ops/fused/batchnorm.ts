import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';
import { allocFloatEmpty } from '../../dtype.js';
import { kernels } from '../../kernels/index.js';

/**
 * Where SyncBN plugs in (DESIGN 6). A shard computes per-channel statistics of its own
 * rows; the reducer turns them into global ones in place. Without a reducer the shard's
 * statistics are used as they are (plain BatchNorm, or DDP's "local" mode).
 */
export interface BatchNormReducer {
  /**
   * Forward: merge shard (count, mean, M2) per channel into the global values, in place
   * (Chan et al.'s parallel formula, float64). Returns the global count.
   */
  reduceStatistics(count: number, mean: Float64Array, m2: Float64Array): number;
  /** Backward: sum Σdy and Σdy·x̂ per channel over all shards, in place. */
  reduceGradients(sumDy: Float64Array, sumDyXhat: Float64Array): void;
}

export interface BatchNormStatistics {
  /** Rows the statistics were taken over (global count under a reducer). */
  count: number;
  mean: Float64Array;
  /** Biased variance M2/count, the one used to normalise. */
  variance: Float64Array;
}

/**
 * Per-channel mean and M2 of `x` viewed as [rows, C] (`mean` and `m2` hold C values),
 * two-pass in float64 so large means do not cancel the variance (the naive Σx² − (Σx)²/n
 * does, in float32). Runs `kernels.channelMoments` (elementwise-reference.ts defines it).
 */
export function channelMoments(x: Float32Array | Float64Array, rows: number, c: number, mean: Float64Array, m2: Float64Array): void {
  kernels.channelMoments(x, rows, c, mean, m2);
}

/**
 * BatchNorm in training mode over every axis but the last (Ioffe & Szegedy 2015; seed 002's
 * forward and backward; seed 000's running statistics live in the layer):
 *   x̂ = (x − μ_B)/√(σ²_B + ε),  y = γ·x̂ + β,  σ²_B biased.
 * VJP with N rows in the (global) batch:
 *   dx = γ/√(σ²_B + ε) · (dy − Σdy/N − x̂·Σ(dy·x̂)/N),  dγ = Σ dy·x̂,  dβ = Σ dy,
 * where the sums in dx run over the global batch (through the reducer) and dγ, dβ over this
 * shard only, since parameter gradients are summed across shards by the all-reduce anyway.
 * `onStatistics` receives the batch statistics for the running-average update.
 */
export function batchNormTrain(
  x: Tensor, gamma: Tensor, beta: Tensor, eps: number,
  reducer: BatchNormReducer | null,
  onStatistics: (s: BatchNormStatistics) => void,
): Tensor {
  const c = gamma.size;
  if (x.rank < 1 || x.shape[x.rank - 1] !== c) throw new Error(`batchNorm: input [${x.shape.join(', ')}] does not end in ${c} channels`);
  const rows = c === 0 ? 0 : x.size / c;
  const mean = new Float64Array(c);
  const m2 = new Float64Array(c);
  channelMoments(x.data, rows, c, mean, m2);
  const count = reducer ? reducer.reduceStatistics(rows, mean, m2) : rows;
  if (count === 0) throw new Error('batchNorm: the batch is empty on every shard');
  const variance = new Float64Array(c);
  const invStd = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    variance[j] = m2[j] / count;
    invStd[j] = 1 / Math.sqrt(variance[j] + eps);
  }
  onStatistics({ count, mean, variance });

  // Both written whole by the kernel.
  const out = Tensor.empty(x.shape, x.dtype);
  const xhat = allocFloatEmpty(x.dtype, x.size);
  const gm = gamma.data;
  kernels.batchNormNormalize(x.data, rows, c, mean, invStd, gm, beta.data, xhat, out.data);
  return record(out, 'batchNorm', [x, gamma, beta], () => {
    const g = out.grad!;
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    kernels.batchNormBackwardSums(g, xhat, rows, c, sumDy, sumDyXhat);
    if (needsGrad(gamma)) { const gg = gamma.gradBuffer(); for (let j = 0; j < c; j++) gg[j] += sumDyXhat[j]; }
    if (needsGrad(beta)) { const gb = beta.gradBuffer(); for (let j = 0; j < c; j++) gb[j] += sumDy[j]; }
    if (!needsGrad(x)) return;
    if (reducer) reducer.reduceGradients(sumDy, sumDyXhat);
    const scale = new Float64Array(c);
    for (let j = 0; j < c; j++) { scale[j] = gm[j] * invStd[j]; sumDy[j] /= count; sumDyXhat[j] /= count; }
    const { grad, add } = x.gradTarget();
    kernels.batchNormBackwardDx(g, xhat, rows, c, scale, sumDy, sumDyXhat, grad, add);
  });
}

/**
 * BatchNorm in eval mode: a fixed per-channel affine map from the running statistics,
 * y = γ·(x − μ_run)/√(σ²_run + ε) + β. Differentiable too (fine-tuning with frozen stats).
 */
export function batchNormEval(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, eps: number): Tensor {
  const c = gamma.size;
  if (x.rank < 1 || x.shape[x.rank - 1] !== c) throw new Error(`batchNorm: input [${x.shape.join(', ')}] does not end in ${c} channels`);
  const rows = c === 0 ? 0 : x.size / c;
  const invStd = new Float64Array(c);
  for (let j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(runningVar[j] + eps);
  const out = Tensor.zeros(x.shape, x.dtype);
  const xs = x.data, y = out.data, gm = gamma.data, bt = beta.data;
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) y[base + j] = gm[j] * (xs[base + j] - runningMean[j]) * invStd[j] + bt[j];
  }
  return record(out, 'batchNormEval', [x, gamma, beta], () => {
    const g = out.grad!;
    const gx = needsGrad(x) ? x.gradBuffer() : null;
    const gg = needsGrad(gamma) ? gamma.gradBuffer() : null;
    const gb = needsGrad(beta) ? beta.gradBuffer() : null;
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      for (let j = 0; j < c; j++) {
        const gi = g[base + j];
        if (gx) gx[base + j] += gi * gm[j] * invStd[j];
        if (gg) gg[j] += gi * (xs[base + j] - runningMean[j]) * invStd[j];
        if (gb) gb[j] += gi;
      }
    }
  });
}
