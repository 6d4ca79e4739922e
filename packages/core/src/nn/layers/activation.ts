import type { Tensor } from '../../autodiff/tensor.js';
import { gelu, relu, sigmoid, tanh } from '../../ops/unary.js';
import { Module } from '../module.js';

export const ACTIVATIONS = { relu, gelu, tanh, sigmoid } as const;
export type ActivationName = keyof typeof ACTIVATIONS;

export function isActivation(name: string): name is ActivationName {
  return Object.hasOwn(ACTIVATIONS, name);
}

/** A parameter-free elementwise nonlinearity. GELU is the tanh form (nn.GELU(approximate='tanh')). */
export class Activation extends Module {
  constructor(readonly type: ActivationName) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ACTIVATIONS[this.type](x);
  }
}
