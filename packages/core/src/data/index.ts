export { sliceDataset, takeFirst, type Dataset } from './dataset.js';
export { parseIdx, type IdxArray } from './idx.js';
export { MNIST_CLASSES, mnistFromIdx } from './mnist.js';
export {
  BatchPlan,
  batchRange,
  batchesPerEpoch,
  epochOrder,
  gatherBatch,
  shardRanges,
  type BatchPlanOptions,
  type IndexRange,
} from './batches.js';
export { perturbInputs, type PerturbOptions } from './perturb.js';
