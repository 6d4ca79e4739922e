import { describe, expect, it } from 'vitest';
import { CounterRng, RngPurpose } from '../rng.js';
import { perturbInputs } from './perturb.js';

const features = 6;
const rng = new CounterRng(11);
const base = (indices: number[]) => Float32Array.from({ length: indices.length * features }, (_, i) => (i % 7) / 7);

describe('perturbInputs', () => {
  it('adds sigma * normal(sample * features + element) of stream [perturb, epoch]', () => {
    const indices = [9, 3];
    const x = base(indices);
    perturbInputs(x, indices, features, { rng, epoch: 4, sigma: 0.3 });
    const clean = base(indices);
    for (let j = 0; j < 2; j++) {
      for (let k = 0; k < features; k++) {
        const noise = 0.3 * rng.normal([RngPurpose.perturb, 4], indices[j]! * features + k);
        expect(x[j * features + k]).toBe(Math.fround(clean[j * features + k]! + noise));
      }
    }
  });

  it('is deterministic and independent of how the batch is sharded', () => {
    const indices = [17, 2, 40, 8, 33];
    const whole = base(indices);
    perturbInputs(whole, indices, features, { rng, epoch: 1, sigma: 0.5 });
    const again = base(indices);
    perturbInputs(again, indices, features, { rng: new CounterRng(11), epoch: 1, sigma: 0.5 });
    expect(Array.from(again)).toEqual(Array.from(whole));

    // Two shards (different workers, own buffers), then concatenated.
    const left = base(indices).slice(0, 2 * features);
    const right = base(indices).slice(2 * features);
    perturbInputs(left, indices.slice(0, 2), features, { rng, epoch: 1, sigma: 0.5 });
    perturbInputs(right, indices.slice(2), features, { rng, epoch: 1, sigma: 0.5 });
    expect([...left, ...right]).toEqual(Array.from(whole));
  });

  it('changes with the epoch and leaves inputs alone when sigma is 0', () => {
    const indices = [1, 2, 3];
    const e0 = base(indices);
    const e1 = base(indices);
    perturbInputs(e0, indices, features, { rng, epoch: 0, sigma: 0.1 });
    perturbInputs(e1, indices, features, { rng, epoch: 1, sigma: 0.1 });
    expect(Array.from(e0)).not.toEqual(Array.from(e1));
    const x = base(indices);
    perturbInputs(x, indices, features, { rng, epoch: 0, sigma: 0 });
    expect(Array.from(x)).toEqual(Array.from(base(indices)));
    expect(() => perturbInputs(x, indices, features, { rng, epoch: 0, sigma: -1 })).toThrow('Invalid perturbation sigma: -1');
  });

  it('has zero mean and standard deviation sigma', () => {
    const n = 20000;
    const indices = Array.from({ length: n }, (_, i) => i);
    const x = new Float32Array(n * features);
    perturbInputs(x, indices, features, { rng, epoch: 2, sigma: 0.2 });
    let sum = 0, sumSq = 0;
    for (const v of x) { sum += v; sumSq += v * v; }
    const mean = sum / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(Math.sqrt(sumSq / x.length - mean * mean)).toBeCloseTo(0.2, 2);
  });
});
