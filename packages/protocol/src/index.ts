/**
 * @flotilla/protocol: the messages worker and coordinator exchange and their binary codec
 * (DESIGN 8). Bytes in, bytes out: sockets belong to the worker and coordinator packages.
 */
export * from './messages.js';
export { ProtocolError, type ProtocolErrorCode } from './errors.js';
export { encodeMessage, decodeMessage, validateAgainst, type FrameInput } from './codec.js';
export { MAX_TRACE_EVENTS } from './schema.js';
export { Timeline } from './timeline.js';
export { CpuClock, type CpuUsage } from './cpu-clock.js';
export { frameLimits, minPartFloats, type FrameLimits, type FrameLimitOptions } from './limits.js';
export { FramePool } from './frame-pool.js';
export { f16Bits, f16Value, bf16Bits, bf16Value, f16Scale } from './half.js';
export type { FrameAllocator, WireKind } from './frame.js';
export { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES, PAYLOAD_ALIGNMENT, payloadOffset, wireWidth } from './frame.js';
