import type { FloatArray } from '../dtype.js';
import { checkLr, checkNonNegative, checkUnit } from './options.js';
import { BaseOptimizer } from './optimizer.js';

/**
 * RMSProp, seed 003's form (AdaGrad with a leaking cache, decay_rate = alpha):
 *
 *   cache ← alpha·cache + (1 − alpha) g²;   p ← p − lr · g / (√cache + eps)
 *
 * with g = grad + wd·p. PyTorch's two options: `centered` also tracks ḡ ← alpha·ḡ + (1 − alpha) g
 * and divides by √(cache − ḡ²) + eps; `momentum` > 0 accumulates b ← mu b + g/(…) and steps
 * p ← p − lr b. `gradAvg` / `buf` are null when those options are off.
 */
export function rmspropUpdate(
  params: FloatArray,
  grads: FloatArray,
  squareAvg: FloatArray,
  gradAvg: FloatArray | null,
  buf: FloatArray | null,
  lr: number,
  alpha: number,
  eps: number,
  weightDecay: number,
  momentum: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + weightDecay * params[i];
    const sq = alpha * squareAvg[i] + (1 - alpha) * g * g;
    squareAvg[i] = sq;
    let variance = sq;
    if (gradAvg !== null) {
      const ga = alpha * gradAvg[i] + (1 - alpha) * g;
      gradAvg[i] = ga;
      variance = Math.max(0, sq - ga * ga);
    }
    const scaled = g / (Math.sqrt(variance) + eps);
    if (buf !== null) {
      const b = momentum * buf[i] + scaled;
      buf[i] = b;
      params[i] -= lr * b;
    } else {
      params[i] -= lr * scaled;
    }
  }
}

export type RMSpropHyper = {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
};

const DEFAULTS: RMSpropHyper = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false };

/** torch.optim.RMSprop. */
export class RMSprop extends BaseOptimizer<RMSpropHyper> {
  constructor(options: Partial<RMSpropHyper> = {}) {
    super('rmsprop', DEFAULTS, options);
  }

  protected validate(h: RMSpropHyper): void {
    checkLr(h.lr);
    checkUnit('alpha value', h.alpha);
    checkNonNegative('epsilon value', h.eps);
    checkNonNegative('weightDecay value', h.weightDecay);
    checkUnit('momentum value', h.momentum);
  }

  protected bufferNames(h: RMSpropHyper): string[] {
    const names = ['square_avg'];
    if (h.momentum > 0) names.push('momentum_buffer');
    if (h.centered) names.push('grad_avg');
    return names;
  }

  protected update(params: FloatArray, grads: FloatArray, lr: number): void {
    const { alpha, eps, weightDecay, momentum, centered } = this.hyper;
    const b = this.buffers;
    const buf = momentum > 0 ? b.momentum_buffer : null;
    rmspropUpdate(params, grads, b.square_avg, centered ? b.grad_avg : null, buf, lr, alpha, eps, weightDecay, momentum);
  }
}
