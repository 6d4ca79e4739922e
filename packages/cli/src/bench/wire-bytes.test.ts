import { resolveRunConfig } from '@flotilla/coordinator';
import { describe, expect, it } from 'vitest';
import { wireBytes } from './scaling.js';

describe('bytes on the wire per step (bench scaling)', () => {
  // The default model: P = 535,818 parameters, B = 1,536 buffers, BatchNorms of 512 and 256 channels.
  const P = 784 * 512 + 2 * 512 + 512 * 256 + 2 * 256 + 256 * 10 + 10, B = 2 * (512 + 256);
  const syncBn = 2 * 2 * 16 * (512 + 256); // 2 rounds per BatchNorm, each way, 2 float64 per channel

  it('counts parameters out and gradients back in float32, plus SyncBN rounds when there are peers', () => {
    const config = resolveRunConfig({}, {});
    expect(wireBytes(config, 2)).toBe(2 * (4 * (P + B) + 4 * (P + B) + syncBn));
    // A lone worker's statistics are already global: no SyncBN traffic.
    expect(wireBytes(config, 1)).toBe(8 * (P + B));
    expect(wireBytes(resolveRunConfig({}, { bnSync: 'local' }), 2)).toBe(2 * 8 * (P + B));
  });

  it('halves the gradient with --grad-dtype f16 or bf16 (buffers stay float32)', () => {
    for (const gradDtype of ['f16', 'bf16'] as const) {
      expect(wireBytes(resolveRunConfig({}, { gradDtype }), 2)).toBe(2 * (4 * (P + B) + 2 * P + 4 * B + syncBn));
    }
  });
});
