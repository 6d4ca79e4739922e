import { Tensor, needsGrad, record } from '../autodiff/tensor.js';

/**
 * Elementwise unary ops. Each rule gives f(x) and f'(x), the latter from the input x and
 * the output y = f(x), so exp, tanh and sigmoid reuse their output as tinygrad does.
 */
interface UnaryRule {
  name: string;
  forward(x: number): number;
  derivative(x: number, y: number): number;
}

function unaryOp(rule: UnaryRule, x: Tensor): Tensor {
  const out = Tensor.zeros(x.shape, x.dtype);
  const xs = x.data, ys = out.data;
  for (let i = 0; i < xs.length; i++) ys[i] = rule.forward(xs[i]);
  return record(out, rule.name, [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[i] += g[i] * rule.derivative(xs[i], ys[i]);
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))): PyTorch's
 * `nn.GELU(approximate='tanh')`. Smooth, so its derivative is exact.
 */
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
}

function geluDerivative(x: number): number {
  const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
  const t = Math.tanh(u);
  const du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
}

function sigmoid(x: number): number {
  // Branches keep exp's argument non-positive, so neither side overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const UNARY = {
  neg: { name: 'neg', forward: (x) => -x, derivative: () => -1 },
  exp: { name: 'exp', forward: Math.exp, derivative: (_x, y) => y },
  log: { name: 'log', forward: Math.log, derivative: (x) => 1 / x },
  tanh: { name: 'tanh', forward: Math.tanh, derivative: (_x, y) => 1 - y * y },
  sigmoid: { name: 'sigmoid', forward: sigmoid, derivative: (_x, y) => y * (1 - y) },
  relu: { name: 'relu', forward: (x) => (x > 0 ? x : 0), derivative: (x) => (x > 0 ? 1 : 0) },
  gelu: { name: 'gelu', forward: gelu, derivative: geluDerivative },
  square: { name: 'square', forward: (x) => x * x, derivative: (x) => 2 * x },
} satisfies Record<string, UnaryRule>;

export const neg = (x: Tensor): Tensor => unaryOp(UNARY.neg, x);
export const exp = (x: Tensor): Tensor => unaryOp(UNARY.exp, x);
export const log = (x: Tensor): Tensor => unaryOp(UNARY.log, x);
export const tanh = (x: Tensor): Tensor => unaryOp(UNARY.tanh, x);
export const sigmoid_ = (x: Tensor): Tensor => unaryOp(UNARY.sigmoid, x);
export const relu = (x: Tensor): Tensor => unaryOp(UNARY.relu, x);
export const gelu_ = (x: Tensor): Tensor => unaryOp(UNARY.gelu, x);
export const square = (x: Tensor): Tensor => unaryOp(UNARY.square, x);
export { sigmoid_ as sigmoid, gelu_ as gelu };

/** x·c for a constant c. */
export function scale(x: Tensor, c: number): Tensor {
  const out = Tensor.zeros(x.shape, x.dtype);
  for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] * c;
  return record(out, 'scale', [x], () => {
    if (!needsGrad(x)) return;
    const g = out.grad!, gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[i] += g[i] * c;
  });
}
