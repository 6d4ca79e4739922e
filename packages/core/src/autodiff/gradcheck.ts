import { CounterRng } from '../rng.js';
import { noGrad, type Tensor } from './tensor.js';

export interface GradcheckOptions {
  /** Central-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the random upstream gradient (non-uniform, so every output element matters). */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| − (atol + rtol·|numeric|) over all checked elements. */
  worstExcess: number;
  failures: string[];
}

/**
 * Checks the VJPs of `fn` at `inputs` against central differences, as PyTorch's gradcheck:
 * with a fixed random upstream u, the analytic gradient of Σ u·fn(inputs) from backward()
 * must match (L(x + ε) − L(x − ε))/2ε for every element of every input, within
 * atol + rtol·|numeric|. Run in float64. Also checks that a second backward pass gives the
 * same gradient bit for bit (no hidden state in the VJPs).
 */
export function gradcheck(fn: () => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const probe = noGrad(fn);
  const rng = new CounterRng(options.seed ?? 7);
  const upstream = new Float64Array(probe.size);
  for (let i = 0; i < upstream.length; i++) upstream[i] = rng.normal([0, 0], i);
  const objective = (): number => {
    const y = noGrad(fn);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += upstream[i] * y.data[i];
    return s;
  };
  const analytic = (): Float64Array[] => {
    for (const t of inputs) t.gradBuffer().fill(0);
    fn().backward(upstream);
    return inputs.map((t) => Float64Array.from(t.grad!));
  };
  const first = analytic();
  const second = analytic();
  const failures: string[] = [];
  let worstExcess = -Infinity;
  inputs.forEach((t, k) => {
    if (first[k].some((v, i) => v !== second[k][i])) failures.push(`input ${k}: backward is not deterministic`);
    for (let i = 0; i < t.size; i++) {
      const saved = t.data[i];
      t.data[i] = saved + eps;
      const plus = objective();
      t.data[i] = saved - eps;
      const minus = objective();
      t.data[i] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const excess = Math.abs(first[k][i] - numeric) - (atol + rtol * Math.abs(numeric));
      worstExcess = Math.max(worstExcess, excess);
      if (excess > 0 && failures.length < 10) {
        failures.push(`input ${k} element ${i}: analytic ${first[k][i]}, numeric ${numeric}`);
      }
    }
  });
  return { ok: failures.length === 0, worstExcess, failures };
}
