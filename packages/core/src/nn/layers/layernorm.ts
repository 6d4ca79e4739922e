import type { Tensor } from '../../autodiff/tensor.js';
import { layerNorm } from '../../ops/fused/layernorm.js';
import { Module } from '../module.js';

/** LayerNorm over the last axis with learned γ (ones) and β (zeros), as nn.LayerNorm(D). */
export class LayerNorm extends Module {
  readonly type = 'layernorm';
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly features: number, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', [features], 'ones', features, features);
    this.bias = this.addParameter('bias', [features], 'zeros', features, features);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
