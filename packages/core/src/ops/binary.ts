import { Tensor, needsGrad, record } from '../autodiff/tensor.js';
import type { FloatArray } from '../dtype.js';
import { broadcastPlan } from './broadcast.js';

/**
 * Elementwise binary ops with broadcasting. Each op is its forward value f(a, b) and its
 * two partial derivatives; the shared template does broadcasting in both directions.
 */
interface BinaryRule {
  name: string;
  forward(a: number, b: number): number;
  /** ∂f/∂a and ∂f/∂b at (a, b). */
  da(a: number, b: number): number;
  db(a: number, b: number): number;
}

function binaryOp(rule: BinaryRule, a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) throw new Error(`${rule.name}: dtypes differ (${a.dtype} and ${b.dtype})`);
  const { shape, ia, ib } = broadcastPlan(a.shape, b.shape);
  const out = Tensor.empty(shape, a.dtype); // every element written below
  const x = a.data, y = b.data, o = out.data;
  const n = o.length;
  if (ia === null && ib === null) {
    for (let i = 0; i < n; i++) o[i] = rule.forward(x[i], y[i]);
  } else {
    for (let i = 0; i < n; i++) o[i] = rule.forward(x[ia ? ia[i] : i], y[ib ? ib[i] : i]);
  }
  return record(out, rule.name, [a, b], () => {
    const g = out.grad!;
    if (needsGrad(a)) accumulate(a.gradBuffer(), g, x, y, ia, ib, rule.da, ia);
    if (needsGrad(b)) accumulate(b.gradBuffer(), g, x, y, ia, ib, rule.db, ib);
  });
}

function accumulate(
  target: FloatArray, g: FloatArray, x: FloatArray, y: FloatArray,
  ia: Int32Array | null, ib: Int32Array | null,
  partial: (a: number, b: number) => number, targetMap: Int32Array | null,
): void {
  for (let i = 0; i < g.length; i++) {
    const t = targetMap ? targetMap[i] : i;
    target[t] += g[i] * partial(x[ia ? ia[i] : i], y[ib ? ib[i] : i]);
  }
}

const ADD: BinaryRule = { name: 'add', forward: (a, b) => a + b, da: () => 1, db: () => 1 };
const SUB: BinaryRule = { name: 'sub', forward: (a, b) => a - b, da: () => 1, db: () => -1 };
const MUL: BinaryRule = { name: 'mul', forward: (a, b) => a * b, da: (_a, b) => b, db: (a) => a };
const DIV: BinaryRule = { name: 'div', forward: (a, b) => a / b, da: (_a, b) => 1 / b, db: (a, b) => -a / (b * b) };

export const add = (a: Tensor, b: Tensor): Tensor => binaryOp(ADD, a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binaryOp(SUB, a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binaryOp(MUL, a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binaryOp(DIV, a, b);
