import type { Tensor } from '../../autodiff/tensor.js';
import { batchNormEval, batchNormTrain } from '../../ops/fused/batchnorm.js';
import { Module, type ForwardContext } from '../module.js';

/**
 * BatchNorm over the last (feature) axis of [N, C] or [N, T, C] (seed 000, seed 002).
 * Training normalises with the batch statistics and updates the running ones as PyTorch
 * does: running = (1 − m)·running + m·batch, with the unbiased batch variance, m = 0.1.
 * Eval normalises with the running statistics. Under SyncBN the context supplies a reducer
 * and the batch statistics are the global batch's.
 */
export class BatchNorm extends Module {
  readonly type = 'batchnorm';
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly channels: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.addParameter('weight', [channels], 'ones', channels, channels);
    this.bias = this.addParameter('bias', [channels], 'zeros', channels, channels);
    this.runningMean = this.addBuffer('running_mean', [channels], 0);
    this.runningVar = this.addBuffer('running_var', [channels], 1);
  }

  /** Sees every input in eval mode (used to recompute running statistics). */
  observer: ((x: Tensor) => void) | null = null;

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (!this.training) {
      this.observer?.(x);
      return batchNormEval(x, this.weight, this.bias, this.runningMean.data, this.runningVar.data, this.eps);
    }
    const reducer = ctx.batchNormReducer?.(this.id) ?? null;
    return batchNormTrain(x, this.weight, this.bias, this.eps, reducer, ({ count, mean, variance }) => {
      const m = this.momentum;
      const unbias = count > 1 ? count / (count - 1) : 1;
      const rm = this.runningMean.data, rv = this.runningVar.data;
      for (let j = 0; j < this.channels; j++) {
        rm[j] = (1 - m) * rm[j] + m * mean[j];
        rv[j] = (1 - m) * rv[j] + m * variance[j] * unbias;
      }
    });
  }
}
