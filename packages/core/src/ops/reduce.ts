import { Tensor, needsGrad, record } from '../autodiff/tensor.js';

/** Splits a shape around `axis` into (outer, dim, inner) loop extents. */
export function axisExtents(shape: readonly number[], axis: number): { outer: number; dim: number; inner: number } {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, dim: shape[axis], inner };
}

export function normaliseAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Σ over one axis (or every element when `axis` is undefined), times `factor` (1 for sum,
 * 1/n for mean). The VJP broadcasts the upstream gradient back over the reduced axis.
 */
function reduceSum(x: Tensor, axis: number | undefined, keepDims: boolean, mean: boolean, op: string): Tensor {
  if (axis === undefined) {
    const factor = mean ? 1 / x.size : 1;
    let s = 0;
    for (let i = 0; i < x.size; i++) s += x.data[i];
    const out = Tensor.from([s * factor], keepDims ? x.shape.map(() => 1) : [], x.dtype);
    return record(out, op, [x], () => {
      if (!needsGrad(x)) return;
      const g = out.grad![0] * factor, gx = x.gradBuffer();
      for (let i = 0; i < gx.length; i++) gx[i] += g;
    });
  }
  const ax = normaliseAxis(axis, x.rank, op);
  const { outer, dim, inner } = axisExtents(x.shape, ax);
  const factor = mean ? 1 / dim : 1;
  const shape = keepDims ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  const out = Tensor.zeros(shape, x.dtype);
  const xs = x.data, o = out.data;
  for (let p = 0; p < outer; p++) {
    for (let d = 0; d < dim; d++) {
      const base = (p * dim + d) * inner;
      for (let q = 0; q < inner; q++) o[p * inner + q] += xs[base + q];
    }
  }
  for (let i = 0; i < o.length; i++) o[i] *= factor;
  return record(out, op, [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let p = 0; p < outer; p++) {
      for (let d = 0; d < dim; d++) {
        const base = (p * dim + d) * inner;
        for (let q = 0; q < inner; q++) gx[base + q] += g[p * inner + q] * factor;
      }
    }
  });
}

export const sum = (x: Tensor, axis?: number, keepDims = false): Tensor => reduceSum(x, axis, keepDims, false, 'sum');
export const mean = (x: Tensor, axis?: number, keepDims = false): Tensor => reduceSum(x, axis, keepDims, true, 'mean');
