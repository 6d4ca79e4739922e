/**
 * NumPy broadcasting for binary ops. Identity maps are `null` so the common same-shape
 * case costs nothing; otherwise `ia[i]` / `ib[i]` give the input element behind output i.
 * Backward reuses the maps: accumulating `grad[ia[i]] += ...` sums over broadcast axes.
 */
export interface BroadcastPlan {
  shape: number[];
  ia: Int32Array | null;
  ib: Int32Array | null;
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`Cannot broadcast shapes [${a.join(', ')}] and [${b.join(', ')}]`);
    }
    shape.push(da === 1 ? db : da);
  }
  return shape;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** For each output element, the flat index of the input of shape `inShape` it reads. */
function indexMap(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const axis = rank - inShape.length + i;
    strides[axis] = inShape[i] === 1 ? 0 : stride;
    stride *= inShape[i];
  }
  let total = 1;
  for (const d of outShape) total *= d;
  const map = new Int32Array(total);
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < total; i++) {
    map[i] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]++;
      offset += strides[axis];
      if (counter[axis] < outShape[axis]) break;
      offset -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return map;
}

export function broadcastPlan(a: readonly number[], b: readonly number[]): BroadcastPlan {
  const shape = broadcastShapes(a, b);
  return {
    shape,
    ia: sameShape(a, shape) ? null : indexMap(a, shape),
    ib: sameShape(b, shape) ? null : indexMap(b, shape),
  };
}
