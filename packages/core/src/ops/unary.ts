import { Tensor, needsGrad, record } from '../autodiff/tensor.js';
import type { FloatArray } from '../dtype.js';
import { kernels } from '../kernels/index.js';
import { tanh64 } from '../kernels/elementwise-reference.js';

/**
 * Elementwise unary ops. Each rule gives f(x) and f'(x), the latter from the input x and
 * the output y = f(x), so exp, tanh and sigmoid reuse their output as tinygrad does.
 *
 * The rules document the maths; the loops that run are the kernels below, one pair per op
 * with f and f' written out (or called directly, so V8 inlines them). One shared loop calling
 * `rule.forward` is megamorphic, an indirect call per element: forward + backward on
 * [128, 512] took 2–4.5× as long that way (neg 1.2 → 0.27 ms, tanh 3.2 → 1.7 ms here).
 * Kernel and rule compute the same expressions, bit for bit (test/elementwise-ops.test.ts).
 */
interface UnaryRule {
  name: string;
  forward(x: number): number;
  derivative(x: number, y: number): number;
}

interface UnaryKernel {
  name: string;
  /** ys[i] = f(xs[i]). */
  forward(xs: FloatArray, ys: FloatArray): void;
  /**
   * gx[i] += g[i] · f'(xs[i], ys[i]); with `accumulate` false gx[i] = 0 + that, gx not read
   * (bit for bit what adding into zeros gives): a first gradient needs no zeroing.
   */
  backward(xs: FloatArray, ys: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void;
}

function unaryOp(kernel: UnaryKernel, x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, x.dtype);
  const xs = x.data, ys = out.data;
  kernel.forward(xs, ys);
  return record(out, kernel.name, [x], () => {
    if (!needsGrad(x)) return;
    const { grad, add } = x.gradTarget();
    kernel.backward(xs, ys, out.grad!, grad, add);
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))): PyTorch's
 * `nn.GELU(approximate='tanh')`. Smooth, so its derivative is exact. Its tanh is tanh64, the
 * library's one definition of tanh (the tanh op's, which its WebAssembly kernel reproduces).
 */
function gelu(x: number): number {
  return 0.5 * x * (1 + tanh64(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
}

function geluDerivative(x: number): number {
  const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
  const t = tanh64(u);
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
  tanh: { name: 'tanh', forward: tanh64, derivative: (_x, y) => 1 - y * y },
  sigmoid: { name: 'sigmoid', forward: sigmoid, derivative: (_x, y) => y * (1 - y) },
  relu: { name: 'relu', forward: (x) => (x > 0 ? x : 0), derivative: (x) => (x > 0 ? 1 : 0) },
  gelu: { name: 'gelu', forward: gelu, derivative: geluDerivative },
  square: { name: 'square', forward: (x) => x * x, derivative: (x) => 2 * x },
} satisfies Record<string, UnaryRule>;

const KERNELS = {
  neg: {
    name: 'neg',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) ys[i] = -xs[i]; },
    backward: (_xs, _ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) gx[i] = (accumulate ? gx[i] : 0) + g[i] * -1; },
  },
  exp: {
    name: 'exp',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) ys[i] = Math.exp(xs[i]); },
    backward: (_xs, ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) gx[i] = (accumulate ? gx[i] : 0) + g[i] * ys[i]; },
  },
  log: {
    name: 'log',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) ys[i] = Math.log(xs[i]); },
    backward: (xs, _ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) gx[i] = (accumulate ? gx[i] : 0) + g[i] * (1 / xs[i]); },
  },
  // The character models' activation: through the kernel seam too.
  tanh: {
    name: 'tanh',
    forward: (xs, ys) => kernels.tanh(xs, ys),
    backward: (_xs, ys, g, gx, accumulate) => kernels.tanhBackward(ys, g, gx, accumulate),
  },
  sigmoid: {
    name: 'sigmoid',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) ys[i] = sigmoid(xs[i]); },
    backward: (_xs, ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) { const y = ys[i]; gx[i] = (accumulate ? gx[i] : 0) + g[i] * (y * (1 - y)); } },
  },
  // The hot one (every hidden layer of the default model): through the kernel seam,
  // WebAssembly SIMD by default.
  relu: {
    name: 'relu',
    forward: (xs, ys) => kernels.relu(xs, ys),
    backward: (xs, _ys, g, gx, accumulate) => kernels.reluBackward(xs, g, gx, accumulate),
  },
  gelu: {
    name: 'gelu',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) ys[i] = gelu(xs[i]); },
    backward: (xs, _ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) gx[i] = (accumulate ? gx[i] : 0) + g[i] * geluDerivative(xs[i]); },
  },
  square: {
    name: 'square',
    forward: (xs, ys) => { for (let i = 0; i < xs.length; i++) { const x = xs[i]; ys[i] = x * x; } },
    backward: (xs, _ys, g, gx, accumulate) => { for (let i = 0; i < g.length; i++) gx[i] = (accumulate ? gx[i] : 0) + g[i] * (2 * xs[i]); },
  },
} satisfies Record<keyof typeof UNARY, UnaryKernel>;

export const neg = (x: Tensor): Tensor => unaryOp(KERNELS.neg, x);
export const exp = (x: Tensor): Tensor => unaryOp(KERNELS.exp, x);
export const log = (x: Tensor): Tensor => unaryOp(KERNELS.log, x);
export const tanh = (x: Tensor): Tensor => unaryOp(KERNELS.tanh, x);
export const sigmoid_ = (x: Tensor): Tensor => unaryOp(KERNELS.sigmoid, x);
export const relu = (x: Tensor): Tensor => unaryOp(KERNELS.relu, x);
export const gelu_ = (x: Tensor): Tensor => unaryOp(KERNELS.gelu, x);
export const square = (x: Tensor): Tensor => unaryOp(KERNELS.square, x);
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
