import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';

/**
 * Layer normalisation over the last axis (seed 004; Ba et al. 2016): per row,
 * x̂ = (x − μ)/√(σ² + ε) with the biased variance, y = γ·x̂ + β. Row statistics are taken in
 * float64. VJP per row: dx = (1/σ̂)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const d = gamma.size;
  if (x.rank < 1 || x.shape[x.rank - 1] !== d) throw new Error(`layerNorm: input [${x.shape.join(', ')}] does not end in ${d} features`);
  const rows = d === 0 ? 0 : x.size / d;
  const out = Tensor.empty(x.shape, x.dtype); // every row written below
  const xhat = new Float64Array(x.size);
  const invStd = new Float64Array(rows);
  const xs = x.data, y = out.data, gm = gamma.data, bt = beta.data;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += xs[base + j];
    mean /= d;
    let m2 = 0;
    for (let j = 0; j < d; j++) { const c = xs[base + j] - mean; m2 += c * c; }
    const inv = 1 / Math.sqrt(m2 / d + eps);
    invStd[r] = inv;
    for (let j = 0; j < d; j++) {
      const h = (xs[base + j] - mean) * inv;
      xhat[base + j] = h;
      y[base + j] = gm[j] * h + bt[j];
    }
  }
  return record(out, 'layerNorm', [x, gamma, beta], () => {
    const g = out.grad!;
    if (needsGrad(gamma) || needsGrad(beta)) {
      const gg = gamma.gradBuffer(), gb = beta.gradBuffer();
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < d; j++) { gg[j] += g[r * d + j] * xhat[r * d + j]; gb[j] += g[r * d + j]; }
      }
    }
    if (!needsGrad(x)) return;
    const gx = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const base = r * d;
      let sum = 0, dot = 0;
      for (let j = 0; j < d; j++) {
        const dh = g[base + j] * gm[j];
        sum += dh;
        dot += dh * xhat[base + j];
      }
      sum /= d; dot /= d;
      for (let j = 0; j < d; j++) gx[base + j] += invStd[r] * (g[base + j] * gm[j] - sum - xhat[base + j] * dot);
    }
  });
}
