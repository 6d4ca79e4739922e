import { Tensor, noGrad } from '../autodiff/tensor.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/model.js';
import { BatchNorm } from '../nn/layers/batchnorm.js';
import { channelMoments } from '../ops/fused/batchnorm.js';
import { mergeMoments } from '../ops/fused/moments.js';

/**
 * Recomputes every BatchNorm layer's running statistics as the mean and (unbiased) variance
 * of its inputs over `data`, for weights that were never trained with them: an average of
 * checkpoints or an EMA of the weights (what torch.optim.swa_utils.update_bn is for).
 *
 * Layer by layer, in forward order, with the model in eval mode: layer l's inputs are
 * computed with layers before it already using their recomputed statistics, so each layer
 * ends up with exactly the statistics it will see at test time (one forward pass over the
 * data per BatchNorm layer; dropout is off). Moments are merged across batches with Chan's
 * formula in float64.
 */
export function recomputeBatchNormStatistics(model: Model, data: Dataset, batchSize = 1000): void {
  const wasTraining = model.root.training;
  model.eval();
  const perSample = model.spec.input.reduce((a, b) => a * b, 1);
  for (const layer of model.modules) {
    if (!(layer instanceof BatchNorm)) continue;
    const c = layer.channels;
    const mean = new Float64Array(c), m2 = new Float64Array(c);
    const batchMean = new Float64Array(c), batchM2 = new Float64Array(c);
    let count = 0;
    layer.observer = (x) => {
      const rows = x.size / c;
      channelMoments(x.data, rows, c, batchMean, batchM2);
      count = mergeMoments(count, mean, m2, rows, batchMean, batchM2);
    };
    try {
      noGrad(() => {
        for (let start = 0; start < data.count; start += batchSize) {
          const n = Math.min(batchSize, data.count - start);
          const x = new Tensor(data.inputs.subarray(start * perSample, (start + n) * perSample), model.batchShape(n));
          model.forward(x, { seed: 0, step: 0, rowOffset: start });
        }
      });
    } finally {
      layer.observer = null;
    }
    if (count < 2) throw new Error(`recomputeBatchNormStatistics: need at least 2 rows, got ${count}`);
    for (let j = 0; j < c; j++) {
      layer.runningMean.data[j] = mean[j];
      layer.runningVar.data[j] = m2[j] / (count - 1);
    }
  }
  model.train(wasTraining);
}
