export { loadMnist, type Splits } from './mnist.js';
export { mnistDataDir, readMnistFiles, type MnistFiles } from './mnist-files.js';
export { loadDataset, DATASET_NAMES } from './registry.js';
