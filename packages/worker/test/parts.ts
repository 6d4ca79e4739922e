import { minPartFloats } from '@flotilla/protocol';
import { expect } from 'vitest';
import type { BatchNormExchange } from '../dist/step-runner.js';

/** MiB of gradient parts: 27 floats, so every chance to send a part is taken. */
export const TINY_PARTS = 1e-4;

export type Part = { offset: number; values: Float32Array };

/**
 * The SyncBN exchange of a worker whose fellow member has no rows in its shard: the merged
 * statistics are this worker's own (a real coordinator would return the same).
 */
export const aloneExchange = async (mine: BatchNormExchange): Promise<BatchNormExchange> => ({ ...mine, a: mine.a.slice(), b: mine.b.slice() });

/** Checks that `parts` tile [head.length, P) from the back, each at least a part's worth; returns head and parts joined. */
export function joinParts(parts: Part[], head: Float32Array, P: number): Float32Array {
  let end = P;
  for (const part of parts) {
    expect(part.offset + part.values.length).toBe(end);
    expect(part.values.length).toBeGreaterThanOrEqual(minPartFloats(TINY_PARTS));
    end = part.offset;
  }
  expect(head.length).toBe(end); // the head: what the parts left
  const joined = new Float32Array(P);
  joined.set(head, 0);
  for (const part of parts) joined.set(part.values, part.offset);
  return joined;
}

/** Bit for bit. */
export const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
