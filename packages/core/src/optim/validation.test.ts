import { describe, expect, it } from 'vitest';
import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { createOptimizer, OPTIMIZER_NAMES } from './create-optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

describe('hyperparameter validation', () => {
  it('learning rate', () => {
    for (const name of OPTIMIZER_NAMES) {
      expect(() => createOptimizer(name, { lr: -1 })).toThrow('Invalid learning rate: -1');
      expect(() => createOptimizer(name, { lr: NaN })).toThrow('Invalid learning rate: NaN');
      expect(() => createOptimizer(name, { lr: Infinity })).toThrow('Invalid learning rate: Infinity');
    }
  });

  it('SGD', () => {
    expect(() => new SGD({ momentum: -0.1 })).toThrow('Invalid momentum value: -0.1');
    expect(() => new SGD({ momentum: 1 })).toThrow('Invalid momentum value: 1 (expected 0 <= value < 1)');
    expect(() => new SGD({ momentum: 0.9, dampening: 1.5 })).toThrow('Invalid dampening value: 1.5');
    expect(() => new SGD({ weightDecay: -1 })).toThrow('Invalid weightDecay value: -1');
    expect(() => new SGD({ nesterov: true })).toThrow('Nesterov momentum requires a momentum > 0 and zero dampening');
    expect(() => new SGD({ nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow('Nesterov momentum requires');
  });

  it('adaptive methods', () => {
    expect(() => new Adam({ betas: [1, 0.999] })).toThrow('Invalid beta parameter at index 0: 1');
    expect(() => new AdamW({ betas: [0.9, -0.1] })).toThrow('Invalid beta parameter at index 1: -0.1');
    expect(() => new Adam({ betas: [0.9] })).toThrow('Invalid betas value: [0.9] (expected 2 numbers)');
    expect(() => new Adam({ eps: -1 })).toThrow('Invalid epsilon value: -1');
    expect(() => new AdamW({ weightDecay: -0.01 })).toThrow('Invalid weightDecay value: -0.01');
    expect(() => new RMSprop({ alpha: 1 })).toThrow('Invalid alpha value: 1');
    expect(() => new RMSprop({ momentum: -1 })).toThrow('Invalid momentum value: -1');
    expect(() => new Adagrad({ lrDecay: -1 })).toThrow('Invalid lrDecay value: -1');
    expect(() => new Adagrad({ initialAccumulatorValue: -1 })).toThrow('Invalid initialAccumulatorValue value: -1');
    expect(() => new Adadelta({ rho: 1.5 })).toThrow('Invalid rho value: 1.5 (expected 0 <= value <= 1)');
    expect(() => new Adadelta({ form: 'paper' as never })).toThrow('Invalid Adadelta form: "paper" (expected "seed" or "zeiler")');
  });

  it('unknown options and wrong types', () => {
    expect(() => createOptimizer('adam', { beta1: 0.9 })).toThrow(
      'Unknown adam option "beta1"; valid options: lr, betas, eps, weightDecay',
    );
    expect(() => createOptimizer('sgd', { weight_decay: 0.1 })).toThrow('Unknown sgd option "weight_decay"');
    expect(() => createOptimizer('sgd', { nesterov: 'yes' })).toThrow('Invalid nesterov value: "yes" (expected a boolean)');
    expect(() => createOptimizer('sgd', { lr: '0.1' })).toThrow('Invalid lr value: "0.1" (expected a number)');
  });

  it('step arguments', () => {
    const opt = new SGD({ lr: 0.1 });
    const x = new Float32Array(3);
    expect(() => opt.step(x, new Float32Array(3), -1)).toThrow('Invalid learning rate: -1');
    expect(() => opt.step(x, new Float32Array(2))).toThrow('sgd.step: params has 3 elements but grads has 2');
    expect(opt.stepCount).toBe(0);
  });
});

describe('createOptimizer', () => {
  it('lists the valid names for an unknown one', () => {
    expect(() => createOptimizer('adamx')).toThrow(
      'Unknown optimizer "adamx"; valid names: sgd, adagrad, rmsprop, adadelta, adam, adamw',
    );
    expect(() => createOptimizer('toString')).toThrow('Unknown optimizer "toString"');
  });

  it("uses PyTorch's defaults, names case-insensitively", () => {
    const hyper = (name: string): unknown => createOptimizer(name).state().hyper;
    expect(createOptimizer('AdamW').kind).toBe('adamw');
    expect(hyper('SGD')).toEqual({ lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false });
    expect(hyper('adam')).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(hyper('adamw')).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 });
    expect(hyper('adagrad')).toEqual({ lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 });
    expect(hyper('rmsprop')).toEqual({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(hyper('adadelta')).toEqual({ lr: 1e-2, rho: 0.9, eps: 1e-6, weightDecay: 0, form: 'seed' });
    expect(createOptimizer('adadelta', { form: 'zeiler' }).lr).toBe(1);
  });
});
