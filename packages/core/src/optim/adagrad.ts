import type { FloatArray } from '../dtype.js';
import { checkLr, checkNonNegative } from './options.js';
import { BaseOptimizer } from './optimizer.js';

/**
 * AdaGrad, seed 003's form (also seed 002 §7.7.5.7: a sum instead of a running average):
 *
 *   cache += g²;   p ← p − lr_t · g / (√cache + eps),   lr_t = lr / (1 + (t − 1) lrDecay)
 *
 * with g = grad + wd·p (L2 weight decay). lrDecay and the starting cache value are
 * PyTorch's options; eps defaults to PyTorch's 1e-10 (the seed writes 1e-7).
 */
export function adagradUpdate(
  params: FloatArray,
  grads: FloatArray,
  sum: FloatArray,
  lr: number,
  eps: number,
  weightDecay: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + weightDecay * params[i];
    const s = sum[i] + g * g;
    sum[i] = s;
    params[i] -= (lr * g) / (Math.sqrt(s) + eps);
  }
}

export type AdagradHyper = {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
};

const DEFAULTS: AdagradHyper = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };

/** torch.optim.Adagrad. */
export class Adagrad extends BaseOptimizer<AdagradHyper> {
  constructor(options: Partial<AdagradHyper> = {}) {
    super('adagrad', DEFAULTS, options);
  }

  protected validate(h: AdagradHyper): void {
    checkLr(h.lr);
    checkNonNegative('lrDecay value', h.lrDecay);
    checkNonNegative('weightDecay value', h.weightDecay);
    checkNonNegative('initialAccumulatorValue value', h.initialAccumulatorValue);
    checkNonNegative('epsilon value', h.eps);
  }

  protected bufferNames(): string[] {
    return ['sum'];
  }

  protected override initBuffers(): void {
    this.buffers.sum.fill(this.hyper.initialAccumulatorValue);
  }

  protected update(params: FloatArray, grads: FloatArray, lr: number, step: number): void {
    const { lrDecay, eps, weightDecay } = this.hyper;
    adagradUpdate(params, grads, this.buffers.sum, lr / (1 + (step - 1) * lrDecay), eps, weightDecay);
  }
}
