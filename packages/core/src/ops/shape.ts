import { Tensor, needsGrad, record } from '../autodiff/tensor.js';
import { sizeOf } from '../dtype.js';
import { kernels } from '../kernels/index.js';
import { axisExtents, normaliseAxis } from './reduce.js';

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Same data, new shape (one axis may be -1). The output shares the input's buffer. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot view ${fmt(x.shape)} (${x.size} elements) as ${fmt(shape)}`);
  }
  const out = new Tensor(x.data, resolved);
  return record(out, 'reshape', [x], () => {
    if (!needsGrad(x)) return;
    const { grad, add } = x.gradTarget();
    kernels.accumulate(out.grad!, grad, add);
  });
}

/** Axis permutation (default: reverse the axes). Copies into row-major order. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const rank = x.rank;
  const p = perm ?? x.shape.map((_, i) => rank - 1 - i);
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new Error(`transpose: ${fmt(p)} is not a permutation of the ${rank} axes of ${fmt(x.shape)}`);
  }
  const shape = p.map((a) => x.shape[a]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) { inStrides[i] = s; s *= x.shape[i]; }
  // map[i]: flat input index of output element i.
  const map = new Int32Array(x.size);
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < map.length; i++) {
    map[i] = offset;
    for (let a = rank - 1; a >= 0; a--) {
      counter[a]++;
      offset += inStrides[p[a]];
      if (counter[a] < shape[a]) break;
      offset -= inStrides[p[a]] * counter[a];
      counter[a] = 0;
    }
  }
  const out = Tensor.empty(shape, x.dtype); // map covers every element
  for (let i = 0; i < map.length; i++) out.data[i] = x.data[map[i]];
  return record(out, 'transpose', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[map[i]] += g[i];
  });
}

/** Joins tensors along `axis`; all other axes must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0];
  const ax = normaliseAxis(axis, first.rank, 'concat');
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shape ${fmt(t.shape)} does not match ${fmt(first.shape)} off axis ${ax}`);
    }
  }
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  const shape = first.shape.map((d, i) => (i === ax ? total : d));
  const out = Tensor.empty(shape, first.dtype); // the blocks tile every row
  const { outer, inner } = axisExtents(shape, ax);
  const blocks = xs.map((t, index) => ({ t, width: t.shape[ax] * inner, start: 0, index }));
  let start = 0;
  for (const b of blocks) { b.start = start; start += b.width; }
  const rowWidth = total * inner;
  for (const { t, width, start: s } of blocks) {
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * width, (o + 1) * width), o * rowWidth + s);
  }
  return record(out, 'concat', xs, () => {
    const g = out.grad!;
    for (const { t, width, start: s } of blocks) {
      if (!needsGrad(t)) continue;
      const gt = t.gradBuffer();
      for (let o = 0; o < outer; o++) {
        for (let q = 0; q < width; q++) gt[o * width + q] += g[o * rowWidth + s + q];
      }
    }
  });
}

/** Elements [start, end) of `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normaliseAxis(axis, x.rank, 'slice');
  const dim = x.shape[ax];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > dim || start > end) {
    throw new Error(`slice: range [${start}, ${end}) is outside axis ${ax} of length ${dim}`);
  }
  const { outer, inner } = axisExtents(x.shape, ax);
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  const out = Tensor.empty(shape, x.dtype); // outer rows of width each
  const width = (end - start) * inner;
  for (let o = 0; o < outer; o++) {
    const from = (o * dim + start) * inner;
    out.data.set(x.data.subarray(from, from + width), o * width);
  }
  return record(out, 'slice', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      const from = (o * dim + start) * inner;
      for (let q = 0; q < width; q++) gx[from + q] += g[o * width + q];
    }
  });
}

/**
 * Embedding lookup: rows of `table` [V, D] picked by `indices` (integers stored in a tensor
 * of any shape S), giving [...S, D]. The VJP scatter-adds into the picked rows.
 */
export function gather(table: Tensor, indices: Tensor): Tensor {
  if (table.rank !== 2) throw new Error(`gather: table must be [V, D], got ${fmt(table.shape)}`);
  const [v, d] = table.shape as [number, number];
  const idx = indices.data;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    if (!Number.isInteger(r) || r < 0 || r >= v) throw new Error(`gather: index ${r} at position ${i} is outside [0, ${v})`);
  }
  const out = Tensor.empty([...indices.shape, d], table.dtype); // one row per index
  for (let i = 0; i < idx.length; i++) out.data.set(table.data.subarray(idx[i] * d, idx[i] * d + d), i * d);
  return record(out, 'gather', [table], () => {
    if (!needsGrad(table)) return;
    const g = out.grad!, gt = table.gradBuffer();
    for (let i = 0; i < idx.length; i++) {
      const row = idx[i] * d;
      for (let j = 0; j < d; j++) gt[row + j] += g[i * d + j];
    }
  });
}
