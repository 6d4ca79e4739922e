import { Tensor, needsGrad, record } from '../autodiff/tensor.js';
import type { FloatArray } from '../dtype.js';

/** Row-wise log-softmax of `x` into `out` (rows of length `c`), max-shifted for stability. */
export function logSoftmaxRows(x: FloatArray, out: FloatArray, rows: number, c: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (x[base + j] > max) max = x[base + j];
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(x[base + j] - max);
    const logZ = max + Math.log(s);
    for (let j = 0; j < c; j++) out[base + j] = x[base + j] - logZ;
  }
}

function lastAxis(x: Tensor, op: string): { rows: number; c: number } {
  if (x.rank < 1) throw new Error(`${op}: needs at least one axis`);
  const c = x.shape[x.rank - 1];
  return { rows: c === 0 ? 0 : x.size / c, c };
}

/** log softmax over the last axis. VJP: dx = g − softmax·Σg (per row). */
export function logSoftmax(x: Tensor): Tensor {
  const { rows, c } = lastAxis(x, 'logSoftmax');
  const out = Tensor.empty(x.shape, x.dtype); // written whole, row by row
  logSoftmaxRows(x.data, out.data, rows, c);
  return record(out, 'logSoftmax', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer(), y = out.data;
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      let gs = 0;
      for (let j = 0; j < c; j++) gs += g[base + j];
      for (let j = 0; j < c; j++) gx[base + j] += g[base + j] - Math.exp(y[base + j]) * gs;
    }
  });
}

/** softmax over the last axis. VJP: dx = y·(g − Σ g·y) (per row). */
export function softmax(x: Tensor): Tensor {
  const { rows, c } = lastAxis(x, 'softmax');
  const out = Tensor.empty(x.shape, x.dtype); // written whole, row by row
  const y = out.data;
  logSoftmaxRows(x.data, y, rows, c);
  for (let i = 0; i < y.length; i++) y[i] = Math.exp(y[i]);
  return record(out, 'softmax', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      let dot = 0;
      for (let j = 0; j < c; j++) dot += g[base + j] * y[base + j];
      for (let j = 0; j < c; j++) gx[base + j] += y[base + j] * (g[base + j] - dot);
    }
  });
}
