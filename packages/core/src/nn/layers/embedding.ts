import type { Tensor } from '../../autodiff/tensor.js';
import { gather } from '../../ops/shape.js';
import { Module } from '../module.js';

/** Rows of a [vocab, dim] table picked by integer inputs, N(0, 1) initialised as nn.Embedding. */
export class Embedding extends Module {
  readonly type = 'embedding';
  readonly weight: Tensor;

  constructor(readonly vocab: number, readonly dim: number) {
    super();
    this.weight = this.addParameter('weight', [vocab, dim], 'normal', vocab, dim);
  }

  forward(x: Tensor): Tensor {
    return gather(this.weight, x);
  }
}
