import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';
import type { FloatArray } from '../../dtype.js';
import { kernels } from '../../kernels/index.js';

/** y = x ⊙ mask for a constant mask (inverted dropout passes 0 or 1/(1−p)). VJP: g ⊙ mask. */
export function applyMask(x: Tensor, mask: FloatArray): Tensor {
  if (mask.length !== x.size) throw new Error(`applyMask: mask has ${mask.length} elements, input ${x.size}`);
  const out = Tensor.empty(x.shape, x.dtype);
  kernels.mul(x.data, mask, out.data);
  return record(out, 'mask', [x], () => {
    if (!needsGrad(x)) return;
    // Into a first gradient, store rather than add into zeros.
    const { grad, add } = x.gradTarget();
    kernels.mulAccumulate(out.grad!, mask, grad, add);
  });
}
