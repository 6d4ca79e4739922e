export { loadMnist } from './mnist.js';
export type { Splits } from './splits.js';
export { mnistDataDir, readMnistFiles, type MnistFiles } from './mnist-files.js';
export { loadDataset, DATASET_NAMES } from './registry.js';
