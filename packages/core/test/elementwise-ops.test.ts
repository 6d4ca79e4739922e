import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { ELEMENTWISE_REFERENCE, useKernels } from '../src/kernels/index.js';
import { buildModel } from '../src/model/model.js';
import { DEFAULT_MNIST_SPEC } from '../src/model/spec.js';
import { computeGradients } from '../src/train/step.js';
import { UNARY } from '../src/ops/unary.js';
import * as unary from '../src/ops/unary.js';
import { CounterRng } from '../src/rng.js';

const bits = (a: Float32Array | Float64Array): number[] =>
  Array.from(a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : new Float64Array(a));

describe('unary ops', () => {
  it('run exactly the rules: f and f′ bit for bit, float32 and float64', () => {
    const rng = new CounterRng(21);
    for (const dtype of ['float32', 'float64'] as const) {
      for (const n of [1, 5, 300, 4097]) {
        const xs = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
        rng.fillNormal(xs, [1, n], 0, 0, 3);
        xs[0] = 0;
        const g = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
        rng.fillNormal(g, [2, n]);
        for (const [name, rule] of Object.entries(UNARY)) {
          const input = name === 'log' ? xs.map((v) => Math.abs(v) + 0.5) : xs;
          const x = new Tensor(input.slice(), [n], true);
          const y = (unary as unknown as Record<string, (t: Tensor) => Tensor>)[name]!(x);
          y.backward(g);
          const wantY = input.map((v) => rule.forward(v));
          const wantG = input.map((_v, i) => 0 + g[i]! * rule.derivative(input[i]!, wantY[i]!));
          expect(bits(y.data), `${name} ${dtype} n=${n}`).toEqual(bits(wantY));
          expect(bits(x.grad!), `${name}' ${dtype} n=${n}`).toEqual(bits(wantG));
        }
      }
    }
  });
});

describe('elementwise kernel seam', () => {
  it('a training step of the default model is bit-identical with the TypeScript and the WebAssembly kernels', () => {
    const rng = new CounterRng(22);
    const batch = 64;
    const inputs = new Float32Array(batch * 784);
    rng.fillUniform(inputs, [1, 0]);
    const labels = new Int32Array(batch).map((_v, i) => rng.uint32([1, 1], i) % 10);
    const run = (): { loss: number; grads: number[]; buffers: number[] } => {
      const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 4 });
      model.zeroGrad();
      const loss = computeGradients(model, new Tensor(inputs, [batch, 784]), labels, { seed: 9, step: 3, rowOffset: 40 });
      return { loss, grads: bits(model.grads), buffers: bits(model.buffers) };
    };
    const wasm = run();
    const previous = useKernels(ELEMENTWISE_REFERENCE);
    let reference;
    try {
      reference = run();
    } finally {
      useKernels(previous);
    }
    expect(wasm.loss).toBe(reference.loss);
    expect(wasm.grads).toEqual(reference.grads);
    expect(wasm.buffers).toEqual(reference.buffers);
  });
});
