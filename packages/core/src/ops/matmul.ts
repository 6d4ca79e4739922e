import { Tensor, needsGrad, record } from '../autodiff/tensor.js';
import { kernels } from '../kernels/index.js';

/**
 * C = A·B for A [M, K] and B [K, N]. VJPs: dA = dC·Bᵀ, dB = Aᵀ·dC, both through the
 * kernel's transpose flags so nothing is transposed in memory.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`matmul: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not fit (need [M, K]·[K, N])`);
  }
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1];
  const out = Tensor.empty([m, n], a.dtype); // stored whole, zeros when k = 0
  kernels.matmul(a.data, b.data, out.data, m, n, k, false, false, false);
  return record(out, 'matmul', [a, b], () => {
    const g = out.grad!;
    // Store rather than add into a gradient of zeros (see linear.ts).
    if (needsGrad(a)) {
      const { grad, add } = a.gradTarget();
      kernels.matmul(g, b.data, grad, m, k, n, false, true, add);
    }
    if (needsGrad(b)) {
      const { grad, add } = b.gradTarget();
      kernels.matmul(a.data, g, grad, k, n, m, true, false, add);
    }
  });
}
