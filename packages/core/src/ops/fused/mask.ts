import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';
import type { FloatArray } from '../../dtype.js';

/** y = x ⊙ mask for a constant mask (inverted dropout passes 0 or 1/(1−p)). VJP: g ⊙ mask. */
export function applyMask(x: Tensor, mask: FloatArray): Tensor {
  if (mask.length !== x.size) throw new Error(`applyMask: mask has ${mask.length} elements, input ${x.size}`);
  const out = Tensor.zeros(x.shape, x.dtype);
  const xs = x.data, y = out.data;
  for (let i = 0; i < y.length; i++) y[i] = xs[i] * mask[i];
  return record(out, 'mask', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[i] += g[i] * mask[i];
  });
}
