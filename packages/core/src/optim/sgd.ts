import type { FloatArray } from '../dtype.js';
import { nesterovUpdate } from './nesterov.js';
import { checkLr, checkNonNegative, checkUnit } from './options.js';
import { BaseOptimizer } from './optimizer.js';

/**
 * Plain gradient descent, p ← p − lr (g + wd p): seed 003's `x += -learning_rate * dx` with
 * L2 weight decay from seed 002 (eq. 7.48–7.50: the penalty λ‖W‖² adds 2λW to the gradient,
 * so wd = 2λ and each step shrinks W by (1 − lr·wd)).
 */
export function sgdUpdate(params: FloatArray, grads: FloatArray, lr: number, weightDecay: number): void {
  for (let i = 0; i < params.length; i++) params[i] -= lr * (grads[i] + weightDecay * params[i]);
}

/**
 * Momentum, PyTorch's form: b ← mu b + (1 − dampening) g,  p ← p − lr b, with b_0 = 0.
 * dampening = mu is seed 002's running average (M_t = γ M_{t−1} + (1 − γ) g_t, W_t = W_{t−1} − η M_t);
 * dampening = 0 is seed 003's `v = mu*v - lr*dx; x += v` (and seed 004's Δθ) with v = −lr b,
 * identical while lr is constant. Unlike PyTorch, the buffer starts at zero rather than at g,
 * so with dampening > 0 the first step is (1 − dampening)·g as in seed 002 (dampening = 0:
 * no difference).
 */
export function momentumUpdate(
  params: FloatArray,
  grads: FloatArray,
  buf: FloatArray,
  lr: number,
  momentum: number,
  dampening: number,
  weightDecay: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const b = momentum * buf[i] + (1 - dampening) * (grads[i] + weightDecay * params[i]);
    buf[i] = b;
    params[i] -= lr * b;
  }
}

export type SGDHyper = {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
};

const DEFAULTS: SGDHyper = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };

/**
 * torch.optim.SGD: plain, momentum (with dampening) or Nesterov. Nesterov runs in seed 003's
 * phi form (see `nesterovUpdate`): its buffer `velocity` holds v = −lr·b, so it is not
 * interchangeable with PyTorch's `momentum_buffer`.
 */
export class SGD extends BaseOptimizer<SGDHyper> {
  constructor(options: Partial<SGDHyper> = {}) {
    super('sgd', DEFAULTS, options);
  }

  protected validate(h: SGDHyper): void {
    checkLr(h.lr);
    checkUnit('momentum value', h.momentum);
    checkUnit('dampening value', h.dampening, true);
    checkNonNegative('weightDecay value', h.weightDecay);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new RangeError(
        `Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${h.momentum}, dampening ${h.dampening})`,
      );
    }
  }

  protected bufferNames(h: SGDHyper): string[] {
    if (h.nesterov) return ['velocity'];
    return h.momentum > 0 ? ['momentum_buffer'] : [];
  }

  protected update(params: FloatArray, grads: FloatArray, lr: number): void {
    const { momentum, dampening, weightDecay } = this.hyper;
    if (this.hyper.nesterov) nesterovUpdate(params, grads, this.buffers.velocity, lr, momentum, weightDecay);
    else if (momentum > 0) momentumUpdate(params, grads, this.buffers.momentum_buffer, lr, momentum, dampening, weightDecay);
    else sgdUpdate(params, grads, lr, weightDecay);
  }
}
