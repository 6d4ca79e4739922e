import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { ELEMENTWISE_REFERENCE, useKernels } from '../src/kernels/index.js';
import { buildModel } from '../src/model/model.js';
import { DEFAULT_MNIST_SPEC } from '../src/model/spec.js';
import { computeGradients } from '../src/train/step.js';
import { UNARY } from '../src/ops/unary.js';
import * as unary from '../src/ops/unary.js';
import { CounterRng } from '../src/rng.js';
import { tanh64 } from '../src/kernels/elementwise-reference.js';

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

describe('tanh64, the definition of tanh the kernels reproduce', () => {
  it('rounds to the float32 Math.tanh gives for float32 arguments of every magnitude, and is within 3e-14 of it in float64', () => {
    const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
    let count = 0, worst = 0;
    for (let b = 0; b <= 0x41a00000; b += 9973) { // every 9973rd float32 pattern from +0 to 20 (past where tanh is 1)
      bits[0] = b;
      for (const x of [f[0], -f[0]]) {
        const got = tanh64(x), want = Math.tanh(x);
        if (Math.fround(got) !== Math.fround(want)) expect.fail(`tanh64(${x}) = ${got} rounds to ${Math.fround(got)}, Math.tanh to ${Math.fround(want)}`);
        if (want !== 0) worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
        count++;
      }
    }
    expect(count).toBeGreaterThan(200_000);
    expect(worst).toBeLessThan(3e-14);
    expect(worst).toBeGreaterThan(0); // a different function from Math.tanh, not a call to it
  });

  it('keeps the sign of zero, saturates to ±1 and passes NaN', () => {
    expect(Object.is(tanh64(0), 0)).toBe(true);
    expect(Object.is(tanh64(-0), -0)).toBe(true);
    expect(tanh64(1e-300)).toBe(1e-300);
    for (const x of [19.5, 40, 1e300, Infinity]) {
      expect(tanh64(x)).toBe(1);
      expect(tanh64(-x)).toBe(-1);
    }
    expect(tanh64(Number.NaN)).toBeNaN();
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
