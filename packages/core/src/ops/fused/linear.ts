import { Tensor, needsGrad, record } from '../../autodiff/tensor.js';
import { sizeOf } from '../../dtype.js';
import { kernels } from '../../kernels/index.js';

/**
 * Fused affine map y = x·Wᵀ + b over the last axis, with W stored [out, in] as PyTorch's
 * nn.Linear. Leading axes are flattened into rows, so [N, in] and [N, T, in] both work.
 * VJPs: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [outF, inF] = weight.shape as [number, number];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: input [${x.shape.join(', ')}] does not end in ${inF} features`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  // The kernel stores every element of y (zeros when there are no input features).
  const out = Tensor.empty([...x.shape.slice(0, -1), outF], x.dtype);
  const y = out.data;
  kernels.matmul(x.data, weight.data, y, rows, outF, inF, false, true, false);
  if (bias !== null) {
    const b = bias.data;
    for (let r = 0; r < rows; r++) {
      const base = r * outF;
      for (let j = 0; j < outF; j++) y[base + j] += b[j];
    }
  }
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record(out, 'linear', inputs, () => {
    const g = out.grad!;
    // Into a gradient that holds only zeros, store rather than add (spares the kernel a copy-in).
    if (needsGrad(x)) {
      const { grad, add } = x.gradTarget();
      kernels.matmul(g, weight.data, grad, rows, inF, outF, false, false, add);
    }
    if (needsGrad(weight)) {
      const { grad, add } = weight.gradTarget();
      kernels.matmul(g, x.data, grad, outF, inF, rows, true, false, add);
    }
    if (bias !== null && needsGrad(bias)) {
      const gb = bias.gradBuffer();
      for (let r = 0; r < rows; r++) {
        const base = r * outF;
        for (let j = 0; j < outF; j++) gb[j] += g[base + j];
      }
    }
  });
}
