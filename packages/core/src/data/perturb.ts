/**
 * Input perturbation (MIT 6.390 notes, 7.8.1.3): during training each input element gets
 * zero-mean Gaussian noise, x + N(0, sigma^2). The noise of element k of sample i in epoch e
 * is normal number i * features + k of stream [RngPurpose.perturb, e], so it depends on
 * (seed, epoch, sample, element) only, not on batch size or sharding (DESIGN 5). Never
 * applied at evaluation.
 */
import { type CounterRng, RngPurpose } from '../rng.js';

export interface PerturbOptions {
  rng: CounterRng;
  epoch: number;
  /** Standard deviation of the noise; 0 leaves the inputs unchanged. */
  sigma: number;
}

/**
 * In place: inputs[j * features + k] += sigma * normal(sampleIndices[j] * features + k),
 * for the samples gathered into the front of `inputs`.
 */
export function perturbInputs(
  inputs: Float32Array,
  sampleIndices: ArrayLike<number>,
  features: number,
  { rng, epoch, sigma }: PerturbOptions,
): void {
  if (!Number.isFinite(sigma) || sigma < 0) throw new RangeError(`Invalid perturbation sigma: ${sigma} (expected a finite number >= 0)`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new RangeError(`Invalid epoch: ${epoch}`);
  if (inputs.length < sampleIndices.length * features) {
    throw new RangeError(`perturbInputs: ${sampleIndices.length} samples of ${features} features do not fit ${inputs.length} inputs`);
  }
  if (sigma === 0) return;
  const stream = [RngPurpose.perturb, epoch] as const;
  for (let j = 0; j < sampleIndices.length; j++) {
    const base = sampleIndices[j] * features;
    const row = j * features;
    for (let k = 0; k < features; k++) inputs[row + k] += sigma * rng.normal(stream, base + k);
  }
}
