/**
 * Frame size bounds, for ws `maxPayload` on both ends: the largest frame a model of
 * P parameters and B buffers produces is a welcome/params/gradient (4·(P + B) payload
 * bytes) or a bn message (16·channels bytes, channels ≤ B/2 since every BatchNorm channel
 * owns a running mean and a running variance), plus the header.
 */
import { MAX_HEADER_BYTES, payloadOffset } from './frame.js';
import type { ModelCounts } from './messages.js';

export interface FrameLimits {
  maxHeaderBytes: number;
  maxPayloadBytes: number;
  /** Set ws `maxPayload` to this. */
  maxFrameBytes: number;
}

export interface FrameLimitOptions {
  /** Widest BatchNorm layer; defaults to floor(bufferCount / 2). */
  maxChannels?: number;
}

export function frameLimits(model: ModelCounts, options: FrameLimitOptions = {}): FrameLimits {
  const { paramCount, bufferCount } = model;
  const maxChannels = options.maxChannels ?? Math.floor(bufferCount / 2);
  for (const [name, value] of [['paramCount', paramCount], ['bufferCount', bufferCount], ['maxChannels', maxChannels]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`frameLimits: ${name} must be an integer >= 0, got ${value}`);
    }
  }
  const maxPayloadBytes = Math.max(4 * (paramCount + bufferCount), 16 * maxChannels);
  return {
    maxHeaderBytes: MAX_HEADER_BYTES,
    maxPayloadBytes,
    maxFrameBytes: payloadOffset(MAX_HEADER_BYTES) + maxPayloadBytes,
  };
}

/**
 * Floats in the smallest gradient part of a run with `bucketMb` (RunConfig.bucketMb, MiB of
 * float32); Infinity when parts are off (0). Workers send no smaller part, and the
 * coordinator refuses one.
 */
export function minPartFloats(bucketMb: number): number {
  return bucketMb > 0 ? Math.max(1, Math.ceil((bucketMb * 2 ** 20) / 4)) : Infinity;
}
