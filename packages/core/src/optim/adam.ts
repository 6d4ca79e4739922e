import type { FloatArray } from '../dtype.js';
import { kernels } from '../kernels/index.js';
import { checkBetas, checkLr, checkNonNegative } from './options.js';
import { BaseOptimizer } from './optimizer.js';

/**
 * Adam with bias correction, seed 003's form (identical to seed 002 Definition 24 except that
 * eps sits outside the square root, as in seed 000, Kingma & Ba and PyTorch):
 *
 *   m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
 *   m̂ = m / (1 − β1^t);      v̂ = v / (1 − β2^t);     p ← p − lr · m̂ / (√v̂ + eps)
 *
 * computed as PyTorch does: p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps).
 * Weight decay: `decoupled` false adds wd·p to g (L2, torch.optim.Adam); true first shrinks
 * p ← p (1 − lr·wd) and leaves g alone (AdamW, Loshchilov & Hutter; seed 002 eq. 7.50's
 * "W (1 − 2λη)" with wd = 2λ).
 */
export function adamUpdate(
  params: FloatArray,
  grads: FloatArray,
  expAvg: FloatArray,
  expAvgSq: FloatArray,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  decoupled: boolean,
  step: number,
): void {
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const l2 = decoupled ? 0 : weightDecay;
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  // The loop is kernels.adam, in the parameters' precision as in PyTorch
  // (elementwise-reference.ts has it in TypeScript; for float32 it runs in WebAssembly
  // float32 lanes by default, bit-identically).
  kernels.adam(params, grads, expAvg, expAvgSq, stepSize, bc2Sqrt, beta1, beta2, eps, l2, shrink);
}

export type AdamHyper = {
  lr: number;
  betas: number[];
  eps: number;
  weightDecay: number;
};

/** Shared by Adam and AdamW, which differ only in kind, default weightDecay and `decoupled`. */
export abstract class AdamBase extends BaseOptimizer<AdamHyper> {
  protected abstract readonly decoupled: boolean;

  protected validate(h: AdamHyper): void {
    checkLr(h.lr);
    checkBetas(h.betas);
    checkNonNegative('epsilon value', h.eps);
    checkNonNegative('weightDecay value', h.weightDecay);
  }

  protected bufferNames(): string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected update(params: FloatArray, grads: FloatArray, lr: number, step: number): void {
    const { betas, eps, weightDecay } = this.hyper;
    const b = this.buffers;
    adamUpdate(params, grads, b.exp_avg, b.exp_avg_sq, lr, betas[0], betas[1], eps, weightDecay, this.decoupled, step);
  }
}

/** torch.optim.Adam: lr 1e-3, betas [0.9, 0.999], eps 1e-8, L2 weightDecay 0. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(options: Partial<AdamHyper> = {}) {
    super('adam', { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, options);
  }
}
