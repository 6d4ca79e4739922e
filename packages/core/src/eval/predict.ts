import { Tensor, noGrad } from '../autodiff/tensor.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/model.js';
import { logSoftmaxRows } from '../ops/softmax.js';

/** Eval-mode class probabilities of `model` on every sample of `data`: [N, C] in float64. */
export function predictProbabilities(model: Model, data: Dataset, batchSize = 1000): Float64Array {
  const wasTraining = model.root.training;
  model.eval();
  const perSample = model.spec.input.reduce((a, b) => a * b, 1);
  const classes = model.outputShape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(data.count * classes);
  try {
    noGrad(() => {
      for (let start = 0; start < data.count; start += batchSize) {
        const n = Math.min(batchSize, data.count - start);
        const x = new Tensor(data.inputs.subarray(start * perSample, (start + n) * perSample), model.batchShape(n));
        const logits = model.forward(x, { seed: 0, step: 0, rowOffset: start });
        const rows = out.subarray(start * classes, (start + n) * classes);
        logSoftmaxRows(logits.data, rows, n, classes);
        for (let i = 0; i < rows.length; i++) rows[i] = Math.exp(rows[i]);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}
