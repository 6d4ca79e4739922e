import type { FloatArray } from '../dtype.js';

/**
 * Nesterov momentum in the phi rewrite of seed 003 (lecture 6). The original update
 *
 *   v_t = mu v_{t-1} - lr_t ∇f(θ_{t-1} + mu v_{t-1}),   θ_t = θ_{t-1} + v_t
 *
 * needs the gradient at the lookahead point. Substituting φ = θ + mu v gives
 *
 *   v_t = mu v_{t-1} - lr_t ∇f(φ_{t-1}),   φ_t = φ_{t-1} - mu v_{t-1} + (1 + mu) v_t
 *
 * (seed code: `v_prev = v; v = mu*v - lr*dx; x += -mu*v_prev + (1+mu)*v`). So the vector
 * this updates, and at which the caller evaluates gradients, is φ = θ + mu v, the lookahead
 * parameters, not θ. With v_0 = 0 both start at the same point, and:
 *
 * - for any learning-rate sequence, φ_t = θ_t + mu v_t exactly, θ_t being the original form;
 * - for a constant lr, φ_t equals the parameters of PyTorch's `nesterov=True`
 *   (b = mu b + g; p -= lr (g + mu b)), with v = -lr b. When lr changes from step to step
 *   the two differ: here lr scales each gradient as it enters v (as in seed 003), while
 *   PyTorch applies the current lr to the whole buffer.
 *
 * L2 weight decay adds `weightDecay * φ` to the gradient, as PyTorch does with its p = φ.
 */
export function nesterovUpdate(
  phi: FloatArray,
  grads: FloatArray,
  velocity: FloatArray,
  lr: number,
  momentum: number,
  weightDecay: number,
): void {
  for (let i = 0; i < phi.length; i++) {
    const vPrev = velocity[i];
    const v = momentum * vPrev - lr * (grads[i] + weightDecay * phi[i]);
    velocity[i] = v;
    phi[i] += -momentum * vPrev + (1 + momentum) * v;
  }
}
