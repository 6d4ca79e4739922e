import type { Tensor } from '../../autodiff/tensor.js';
import { add, mul, sub } from '../../ops/binary.js';
import { linear } from '../../ops/fused/linear.js';
import { sigmoid } from '../../ops/unary.js';
import { ACTIVATIONS, type ActivationName } from './activation.js';
import { Module, type ForwardContext } from '../module.js';

/** Layers applied in order; children are named 0, 1, 2, ... as in nn.Sequential. */
export class Sequential extends Module {
  readonly type = 'sequential';

  constructor(readonly layers: Module[]) {
    super();
    layers.forEach((layer, i) => this.addChild(String(i), layer));
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h, ctx);
    return h;
  }
}

/** y = f(x) + x (seed 000): the identity path keeps gradients flowing through deep stacks. */
export class Residual extends Module {
  readonly type = 'residual';

  constructor(readonly fn: Sequential) {
    super();
    this.addChild('fn', fn);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return add(this.fn.forward(x, ctx), x);
  }
}

/**
 * Highway layer (seed 000; Srivastava et al. 2015): y = t(x)·f(x) + (1 − t(x))·x with
 * transform f(x) = act(W_f x + b_f) and sigmoid gate t(x) = σ(W_t x + b_t), computed as
 * x + t·(f − x). The gate bias starts negative (−1 by default) so the layer starts close to
 * carrying its input, as the paper recommends.
 */
export class Highway extends Module {
  readonly type = 'highway';
  readonly transform: Tensor;
  readonly transformBias: Tensor;
  readonly gate: Tensor;
  readonly gateBias: Tensor;

  constructor(readonly features: number, readonly activation: ActivationName = 'relu', readonly gateBiasInit = -1) {
    super();
    this.transform = this.addParameter('transform.weight', [features, features], 'linear_default', features, features);
    this.transformBias = this.addParameter('transform.bias', [features], 'linear_default', features, features);
    this.gate = this.addParameter('gate.weight', [features, features], 'linear_default', features, features);
    this.gateBias = this.addParameter('gate.bias', [features], gateBiasInit, features, features);
  }

  forward(x: Tensor): Tensor {
    const f = ACTIVATIONS[this.activation](linear(x, this.transform, this.transformBias));
    const t = sigmoid(linear(x, this.gate, this.gateBias));
    return add(x, mul(t, sub(f, x)));
  }
}
