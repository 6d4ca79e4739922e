import type { FloatArray } from '../dtype.js';
import { kernels } from '../kernels/index.js';

/** Euclidean norm of a flat gradient, summed in float64 in one fixed order (reproducible; see Kernels.sumSquares). */
export function gradNorm(grads: FloatArray): number {
  return Math.sqrt(kernels.sumSquares(grads));
}

/**
 * Global-norm gradient clipping, seed 004: if ‖g‖ > C then g ↦ C g / ‖g‖ (one norm over the
 * whole flat gradient, i.e. over all parameters, like torch.nn.utils.clip_grad_norm_ but
 * without its +1e-6 in the denominator). `maxNorm = Infinity` turns clipping off.
 *
 * Returns the norm before clipping. A non-finite norm (NaN/Inf gradient) leaves `grads`
 * untouched: the caller should check `Number.isFinite` and skip the step.
 */
export function clipGradNorm(grads: FloatArray, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`Invalid maxNorm: ${maxNorm} (expected a number > 0)`);
  const norm = gradNorm(grads);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const scale = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= scale;
  }
  return norm;
}
