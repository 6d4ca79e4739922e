import { Tensor, noGrad } from '../autodiff/tensor.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/model.js';
import type { ForwardContext } from '../nn/module.js';
import { logSoftmaxRows } from '../ops/softmax.js';
import { softmaxCrossEntropy } from '../ops/fused/losses.js';

export interface GradientStepOptions {
  /** Label smoothing α for the cross-entropy. */
  smoothing?: number;
  /**
   * Size of the global batch this shard belongs to: the loss is Σ over the shard divided by
   * it, so shard gradients add up to the gradient of the global mean (data parallelism).
   */
  globalBatch?: number;
  /** Told of each parameter whose gradient is final, while the backward pass goes on. */
  onLeafReady?: (leaf: Tensor) => void;
}

/**
 * Forward, loss and backward of one (shard of a) mini-batch in training mode, accumulating
 * into `model.grads` (the caller zeroes them). Returns the shard's summed loss divided by
 * the global batch size, so shard losses add up to the batch mean too.
 */
export function computeGradients(
  model: Model, inputs: Tensor, labels: Int32Array, ctx: ForwardContext, options: GradientStepOptions = {},
): number {
  model.train();
  const logits = model.forward(inputs, ctx);
  const loss = softmaxCrossEntropy(logits, labels, { smoothing: options.smoothing ?? 0, divisor: options.globalBatch ?? labels.length });
  loss.backward(undefined, { onLeafReady: options.onLeafReady });
  return loss.item();
}

export interface Evaluation {
  /** Fraction of rows whose arg-max logit is the label. */
  accuracy: number;
  /** Mean negative log-likelihood, nats. */
  loss: number;
  count: number;
}

/** Eval-mode accuracy and mean NLL over a data set, in batches, without recording a graph. */
export function evaluate(model: Model, data: Dataset, batchSize = 1000): Evaluation {
  const count = data.count;
  const wasTraining = model.root.training;
  model.eval();
  const perSample = model.spec.input.reduce((a, b) => a * b, 1);
  let correct = 0, nll = 0;
  noGrad(() => {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const ys = data.labels.subarray(start, start + n);
      const inputs = new Tensor(data.inputs.subarray(start * perSample, (start + n) * perSample), model.batchShape(n));
      const logits = model.forward(inputs, { seed: 0, step: 0, rowOffset: start });
      const c = logits.size / n;
      const logp = new Float64Array(logits.size);
      logSoftmaxRows(logits.data, logp, n, c);
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let j = 1; j < c; j++) if (logp[r * c + j] > logp[r * c + best]) best = j;
        if (best === ys[r]) correct++;
        nll -= logp[r * c + ys[r]];
      }
    }
  });
  model.train(wasTraining);
  return { accuracy: count > 0 ? correct / count : 0, loss: count > 0 ? nll / count : 0, count };
}
