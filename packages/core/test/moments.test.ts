import { describe, expect, it } from 'vitest';
import { channelMoments } from '../src/ops/fused/batchnorm.js';
import { mergeMoments } from '../src/ops/fused/moments.js';
import { expectClose } from './helpers.js';

describe("Chan's parallel merge of (count, mean, M2)", () => {
  it('merging uneven and empty shards equals the statistics of the whole', () => {
    const c = 3;
    const rows = 11;
    const x = Float64Array.from({ length: rows * c }, (_, i) => 1000 + Math.sin(i * 1.7) * (i % 5));
    const wholeMean = new Float64Array(c), wholeM2 = new Float64Array(c);
    channelMoments(x, rows, c, wholeMean, wholeM2);
    const mean = new Float64Array(c), m2 = new Float64Array(c);
    let count = 0;
    for (const [start, end] of [[0, 0], [0, 4], [4, 5], [5, 5], [5, 11]]) {
      const sm = new Float64Array(c), s2 = new Float64Array(c);
      channelMoments(x.subarray(start * c, end * c), end - start, c, sm, s2);
      count = mergeMoments(count, mean, m2, end - start, sm, s2);
    }
    expect(count).toBe(rows);
    expectClose(mean, wholeMean, 1e-13);
    expectClose(m2, wholeM2, 1e-9);
  });
});
