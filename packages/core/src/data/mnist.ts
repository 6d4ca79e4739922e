/**
 * MNIST from its IDX files: images [N, rows, cols] of bytes become float32 inputs of shape
 * [N, rows * cols] scaled to [0, 1] (x / 255); labels [N] become an Int32Array in [0, 10).
 */
import type { Dataset } from './dataset.js';
import { parseIdx } from './idx.js';

export const MNIST_CLASSES = 10;

export function mnistFromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array): Dataset {
  const images = parseIdx(imagesBytes);
  const labels = parseIdx(labelsBytes);
  if (images.shape.length !== 3) {
    throw new Error(`MNIST images must have 3 dimensions [N, rows, cols], got [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1) {
    throw new Error(`MNIST labels must have 1 dimension [N], got [${labels.shape.join(', ')}]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new Error(`MNIST counts disagree: ${count} images but ${labels.shape[0]} labels`);
  }
  const inputs = new Float32Array(images.data.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.data[i] / 255;
  const labelArray = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (label >= MNIST_CLASSES) throw new Error(`MNIST label ${label} at index ${i} is out of range [0, ${MNIST_CLASSES})`);
    labelArray[i] = label;
  }
  return { inputs, inputShape: [rows * cols], labels: labelArray, count, numClasses: MNIST_CLASSES };
}
