import type { Tensor } from '../../autodiff/tensor.js';
import { linear } from '../../ops/fused/linear.js';
import type { InitName } from '../init.js';
import { Module } from '../module.js';

/** y = x·Wᵀ + b over the last axis; W is [out, in] and both default to PyTorch's U(±1/√in). */
export class Linear extends Module {
  readonly type = 'linear';
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, useBias = true, init: InitName = 'linear_default') {
    super();
    this.weight = this.addParameter('weight', [outFeatures, inFeatures], init, inFeatures, outFeatures);
    this.bias = useBias ? this.addParameter('bias', [outFeatures], init === 'linear_default' ? 'linear_default' : 'zeros', inFeatures, outFeatures) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
