import { describe, expect, it } from 'vitest';
import { createOptimizer, optimizerFromState } from './create-optimizer.js';
import type { Optimizer, OptimizerState } from './optimizer.js';

const CONFIGS: [string, Record<string, unknown>][] = [
  ['sgd', { lr: 0.05 }],
  ['sgd', { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }],
  ['sgd', { lr: 0.05, momentum: 0.9, nesterov: true }],
  ['adagrad', { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 1e-3 }],
  ['rmsprop', { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 1e-3 }],
  ['adadelta', { lr: 0.01, weightDecay: 1e-3 }],
  ['adadelta', { form: 'zeiler' }],
  ['adam', { lr: 0.01, weightDecay: 1e-3 }],
  ['adamw', { lr: 0.01, betas: [0.8, 0.99] }],
];

const N = 7;
const A = Float32Array.from({ length: N }, (_, i) => 0.5 + i);

/** Steps t0..t1-1 on a quadratic with a changing lr (as from a schedule). */
function train(opt: Optimizer, x: Float32Array, t0: number, t1: number): void {
  const g = new Float32Array(N);
  for (let t = t0; t < t1; t++) {
    for (let i = 0; i < N; i++) g[i] = A[i] * (x[i] - 1) + 0.1 * Math.sin(t + i);
    opt.step(x, g, 0.05 / (1 + 0.1 * t));
  }
}

/** What a checkpoint does to the state: JSON for the hyperparameters, raw bytes for buffers. */
function throughCheckpoint(s: OptimizerState): OptimizerState {
  const buffers: Record<string, Float32Array> = {};
  for (const [k, b] of Object.entries(s.buffers)) {
    expect(b).toBeInstanceOf(Float32Array);
    buffers[k] = new Float32Array(new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice().buffer);
  }
  const plain = JSON.parse(JSON.stringify({ ...s, buffers: {} })) as OptimizerState;
  return { ...plain, buffers };
}

describe('state() / loadState()', () => {
  for (const [name, options] of CONFIGS) {
    it(`${name} ${JSON.stringify(options)}: a resumed run continues exactly like an uninterrupted one`, () => {
      const x0 = Float32Array.from({ length: N }, (_, i) => Math.cos(i) * 2);
      const straight = x0.slice();
      train(createOptimizer(name, options), straight, 0, 10);

      const resumed = x0.slice();
      const first = createOptimizer(name, options);
      train(first, resumed, 0, 4);
      const saved = throughCheckpoint(first.state());
      expect(saved.step).toBe(4);
      // A fresh optimizer with default hyperparameters: loadState restores them too.
      const second = createOptimizer(name);
      second.loadState(saved);
      expect(second.stepCount).toBe(4);
      expect(second.state().hyper).toEqual(first.state().hyper);
      train(second, resumed, 4, 10);

      expect(Array.from(resumed)).toEqual(Array.from(straight));
      expect(Array.from(straight)).not.toEqual(Array.from(x0));
    });
  }

  it('optimizerFromState rebuilds the same optimizer', () => {
    const opt = createOptimizer('adam', { lr: 0.01 });
    const x = new Float32Array(N);
    train(opt, x, 0, 3);
    const copy = optimizerFromState(opt.state());
    expect(copy.kind).toBe('adam');
    expect(copy.state()).toEqual(opt.state());
  });

  it('state() is a copy: later steps do not change it, and loadState copies its input', () => {
    const opt = createOptimizer('sgd', { lr: 0.1, momentum: 0.9 });
    const x = new Float32Array(N);
    train(opt, x, 0, 2);
    const s = opt.state();
    const before = Array.from(s.buffers.momentum_buffer);
    train(opt, x, 2, 3);
    expect(Array.from(s.buffers.momentum_buffer)).toEqual(before);
    opt.loadState(s);
    s.buffers.momentum_buffer.fill(123);
    expect(Array.from(opt.state().buffers.momentum_buffer)).toEqual(before);
  });

  it('a state taken before the first step has no buffers and loads', () => {
    const s = createOptimizer('adam').state();
    expect(s).toEqual({ kind: 'adam', step: 0, hyper: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, buffers: {} });
    const opt = createOptimizer('adam');
    opt.loadState(s);
    train(opt, new Float32Array(N), 0, 1);
    expect(opt.stepCount).toBe(1);
  });
});

describe('loadState rejects bad states with clear errors', () => {
  const make = (): [Optimizer, OptimizerState] => {
    const opt = createOptimizer('adam');
    train(opt, new Float32Array(N), 0, 2);
    return [opt, opt.state()];
  };

  it('another kind', () => {
    const [, s] = make();
    expect(() => createOptimizer('sgd').loadState(s)).toThrow('Cannot load optimizer state into sgd: the state is for "adam"');
  });

  it('buffers of the wrong length', () => {
    const [opt, s] = make();
    expect(() => opt.loadState({ ...s, buffers: { ...s.buffers, exp_avg: new Float32Array(N + 1) } })).toThrow(
      'buffer "exp_avg_sq" has 7 elements but "exp_avg" has 8',
    );
    const both = { exp_avg: new Float32Array(3), exp_avg_sq: new Float32Array(3) };
    expect(() => opt.loadState({ ...s, buffers: both })).toThrow('its buffers have 3 elements but the parameters have 7');
    // Loaded into a fresh optimizer it is accepted, and the next step with other sizes fails.
    const fresh = createOptimizer('adam');
    fresh.loadState({ ...s, buffers: both });
    expect(() => train(fresh, new Float32Array(N), 2, 3)).toThrow(
      'adam.step: params has 7 elements but the optimizer state is sized for 3',
    );
  });

  it('missing, unexpected and non-typed-array buffers', () => {
    const [opt, s] = make();
    expect(() => opt.loadState({ ...s, buffers: { exp_avg: s.buffers.exp_avg } })).toThrow('missing buffer "exp_avg_sq"');
    expect(() => opt.loadState({ ...s, buffers: {} })).toThrow('missing buffer "exp_avg"');
    expect(() => opt.loadState({ ...s, buffers: { ...s.buffers, momentum_buffer: new Float32Array(N) } })).toThrow(
      'unexpected buffer "momentum_buffer" (expected: exp_avg, exp_avg_sq)',
    );
    const plain = { ...s.buffers, exp_avg: Array.from(s.buffers.exp_avg) as unknown as Float32Array };
    expect(() => opt.loadState({ ...s, buffers: plain })).toThrow('buffer "exp_avg" must be a Float32Array or Float64Array');
  });

  it('bad step and bad hyperparameters', () => {
    const [opt, s] = make();
    expect(() => opt.loadState({ ...s, step: -1 })).toThrow('step must be an integer >= 0, got -1');
    expect(() => opt.loadState({ ...s, step: 1.5 })).toThrow('step must be an integer >= 0, got 1.5');
    expect(() => opt.loadState({ ...s, hyper: { ...s.hyper, lr: -1 } })).toThrow('Invalid learning rate: -1');
    expect(() => opt.loadState({ ...s, hyper: { ...s.hyper, beta1: 0.9 } })).toThrow('Unknown adam option "beta1"');
  });

  it('a failed load leaves the optimizer as it was', () => {
    const [opt, s] = make();
    expect(() => opt.loadState({ ...s, step: 9, buffers: {} })).toThrow();
    expect(opt.state()).toEqual(s);
  });
});
