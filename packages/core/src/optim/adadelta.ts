import type { FloatArray } from '../dtype.js';
import { checkLr, checkNonNegative, checkUnit } from './options.js';
import { BaseOptimizer } from './optimizer.js';

/**
 * Adadelta as seed 002 defines it (§7.7.5, Definition 19), with γ = rho:
 *
 *   G ← rho·G + (1 − rho) g²;   p ← p − lr · g / √(G + eps)
 *
 * A per-weight step size from a running average of squared gradients, eps inside the root,
 * and a global step size η = lr. That is RMSProp with eps under the square root: it has no
 * second accumulator of squared updates, the part that makes Zeiler's method unit-correct
 * and learning-rate free (see `adadeltaZeilerUpdate`). g = grad + wd·p.
 */
export function adadeltaSeedUpdate(
  params: FloatArray,
  grads: FloatArray,
  squareAvg: FloatArray,
  lr: number,
  rho: number,
  eps: number,
  weightDecay: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + weightDecay * params[i];
    const sq = rho * squareAvg[i] + (1 - rho) * g * g;
    squareAvg[i] = sq;
    params[i] -= (lr * g) / Math.sqrt(sq + eps);
  }
}

/**
 * Zeiler's Adadelta (2012, Algorithm 1), as torch.optim.Adadelta computes it:
 *
 *   E[g²] ← rho E[g²] + (1 − rho) g²
 *   Δ = √(E[Δ²] + eps) / √(E[g²] + eps) · g
 *   E[Δ²] ← rho E[Δ²] + (1 − rho) Δ²
 *   p ← p − lr Δ            (Zeiler: lr = 1)
 */
export function adadeltaZeilerUpdate(
  params: FloatArray,
  grads: FloatArray,
  squareAvg: FloatArray,
  accDelta: FloatArray,
  lr: number,
  rho: number,
  eps: number,
  weightDecay: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + weightDecay * params[i];
    const sq = rho * squareAvg[i] + (1 - rho) * g * g;
    squareAvg[i] = sq;
    const delta = (Math.sqrt(accDelta[i] + eps) / Math.sqrt(sq + eps)) * g;
    accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
    params[i] -= lr * delta;
  }
}

export type AdadeltaForm = 'seed' | 'zeiler';

export type AdadeltaHyper = {
  lr: number;
  rho: number;
  eps: number;
  weightDecay: number;
  form: string;
};

/**
 * torch.optim.Adadelta's names and defaults (rho 0.9, eps 1e-6, lr 1.0 for Zeiler's form).
 * The seed form's default lr is 0.01 instead: it has no E[Δ²] factor to set the scale, so
 * lr = 1 would move every weight by about 1/√(1 − rho) ≈ 3 on the first step.
 */
export class Adadelta extends BaseOptimizer<AdadeltaHyper> {
  constructor(options: Partial<Omit<AdadeltaHyper, 'form'>> & { form?: AdadeltaForm } = {}) {
    const form = options?.form ?? 'seed';
    super('adadelta', { lr: form === 'zeiler' ? 1.0 : 1e-2, rho: 0.9, eps: 1e-6, weightDecay: 0, form }, options);
  }

  protected validate(h: AdadeltaHyper): void {
    checkLr(h.lr);
    checkUnit('rho value', h.rho, true);
    checkNonNegative('epsilon value', h.eps);
    checkNonNegative('weightDecay value', h.weightDecay);
    if (h.form !== 'seed' && h.form !== 'zeiler') {
      throw new RangeError(`Invalid Adadelta form: "${h.form}" (expected "seed" or "zeiler")`);
    }
  }

  protected bufferNames(h: AdadeltaHyper): string[] {
    return h.form === 'zeiler' ? ['square_avg', 'acc_delta'] : ['square_avg'];
  }

  protected update(params: FloatArray, grads: FloatArray, lr: number): void {
    const { rho, eps, weightDecay } = this.hyper;
    const b = this.buffers;
    if (this.hyper.form === 'zeiler') adadeltaZeilerUpdate(params, grads, b.square_avg, b.acc_delta, lr, rho, eps, weightDecay);
    else adadeltaSeedUpdate(params, grads, b.square_avg, lr, rho, eps, weightDecay);
  }
}
