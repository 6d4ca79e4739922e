import type { FloatArray } from '../dtype.js';

/**
 * Uniform average of parameter vectors of one architecture (seed 003, "averaging
 * checkpoints"): out = (1/K) Σ_k params_k, accumulated in float64. BatchNorm running
 * statistics are not averaged: recompute them for the averaged weights
 * (recomputeBatchNormStatistics), as torch.optim.swa_utils.update_bn does.
 */
export function averageParameters(vectors: readonly FloatArray[], out: FloatArray): FloatArray {
  if (vectors.length === 0) throw new Error('averageParameters: nothing to average');
  for (const v of vectors) {
    if (v.length !== out.length) throw new Error(`averageParameters: a vector has ${v.length} elements, expected ${out.length}`);
  }
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (const v of vectors) s += v[i];
    out[i] = s / vectors.length;
  }
  return out;
}
