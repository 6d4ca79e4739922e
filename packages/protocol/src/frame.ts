/**
 * The frame envelope (DESIGN 8). Every message is one binary WebSocket frame:
 *
 *   offset 0        u32 little-endian H: byte length of the header
 *   offset 4        H bytes: the header, one msgpack map (msgpackr, useRecords: false)
 *   offset 4 + H    zero bytes up to the next multiple of 8 (0..7 of them)
 *   offset P        payload: raw little-endian float32 or float64 values, possibly none;
 *                   P = ceil((4 + H) / 8) · 8, the payload runs to the end of the frame
 *
 * Padding to 8 lets both float32 and float64 payloads be viewed in place in a frame that
 * starts 8-aligned. Receivers never rely on that: ws hands out bytes at arbitrary offsets,
 * so payloads are copied into fresh, aligned typed arrays (one copy).
 */
import { ProtocolError } from './errors.js';

export const LENGTH_PREFIX_BYTES = 4;
export const PAYLOAD_ALIGNMENT = 8;
/** Largest header accepted or produced; headers are small (the biggest is a welcome's spec). */
export const MAX_HEADER_BYTES = 1 << 20;

export type FloatArray = Float32Array | Float64Array;
export type FloatKind = 'f32' | 'f64';

/** True on every platform Node and browsers run on today; the DataView path covers the rest. */
export const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Byte offset of the payload for a header of `headerBytes` bytes. */
export function payloadOffset(headerBytes: number): number {
  return Math.ceil((LENGTH_PREFIX_BYTES + headerBytes) / PAYLOAD_ALIGNMENT) * PAYLOAD_ALIGNMENT;
}

/** Allocates the frame once and writes prefix, header, padding (already zero) and payload parts. */
export function writeFrame(
  header: Uint8Array,
  parts: readonly FloatArray[],
  littleEndianHost = NATIVE_LITTLE_ENDIAN,
): Uint8Array<ArrayBuffer> {
  let payloadBytes = 0;
  for (const part of parts) payloadBytes += part.byteLength;
  const start = payloadOffset(header.length);
  const frame = new Uint8Array(start + payloadBytes);
  const h = header.length;
  frame[0] = h & 0xff;
  frame[1] = (h >>> 8) & 0xff;
  frame[2] = (h >>> 16) & 0xff;
  frame[3] = (h >>> 24) & 0xff;
  frame.set(header, LENGTH_PREFIX_BYTES);
  let offset = start;
  for (const part of parts) {
    writeFloats(frame, offset, part, littleEndianHost);
    offset += part.byteLength;
  }
  return frame;
}

/** Copies `src` as little-endian bytes into `dst` at `offset`. */
export function writeFloats(dst: Uint8Array, offset: number, src: FloatArray, littleEndianHost = NATIVE_LITTLE_ENDIAN): void {
  if (littleEndianHost) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), offset);
    return;
  }
  const view = new DataView(dst.buffer, dst.byteOffset + offset, src.byteLength);
  if (src instanceof Float64Array) {
    for (let i = 0; i < src.length; i++) view.setFloat64(8 * i, src[i], true);
  } else {
    for (let i = 0; i < src.length; i++) view.setFloat32(4 * i, src[i], true);
  }
}

/**
 * Reads little-endian floats out of `bytes` (any offset) into an aligned typed array.
 * When `owned` the caller hands over bytes nobody else holds, so an aligned range is
 * viewed in place instead of copied.
 */
export function readFloats(bytes: Uint8Array, kind: FloatKind, owned = false, littleEndianHost = NATIVE_LITTLE_ENDIAN): FloatArray {
  const width = kind === 'f64' ? 8 : 4;
  const n = bytes.length / width;
  if (owned && littleEndianHost && bytes.byteOffset % width === 0) {
    return kind === 'f64'
      ? new Float64Array(bytes.buffer, bytes.byteOffset, n)
      : new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  const out = kind === 'f64' ? new Float64Array(n) : new Float32Array(n);
  if (littleEndianHost) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (out instanceof Float64Array) {
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  } else {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

export interface RawFrame {
  /** The header's msgpack bytes (a view into the frame). */
  header: Uint8Array;
  /** The payload bytes (a view into the frame; may be unaligned). */
  payload: Uint8Array;
}

/** Splits a frame into header and payload, checking the envelope. */
export function readFrame(frame: Uint8Array): RawFrame {
  const size = frame.length;
  if (size < LENGTH_PREFIX_BYTES) {
    throw new ProtocolError('bad-frame', `frame is ${size} bytes, shorter than the 4-byte header length`);
  }
  const h = (frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24)) >>> 0;
  if (h === 0) throw new ProtocolError('bad-header', 'header length is 0');
  if (h > MAX_HEADER_BYTES) {
    throw new ProtocolError('bad-frame', `header length ${h} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (LENGTH_PREFIX_BYTES + h > size) {
    throw new ProtocolError('bad-frame', `header length ${h} runs past the end of the ${size}-byte frame`);
  }
  const start = payloadOffset(h);
  if (start > size) {
    throw new ProtocolError('bad-frame', `frame of ${size} bytes ends inside the header padding (payload starts at ${start})`);
  }
  for (let i = LENGTH_PREFIX_BYTES + h; i < start; i++) {
    if (frame[i] !== 0) throw new ProtocolError('bad-frame', `padding byte at offset ${i} is ${frame[i]}, not 0`);
  }
  return {
    header: frame.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + h),
    payload: frame.subarray(start),
  };
}

/** Joins fragments (ws `binaryType: 'fragments'`) into one fresh, aligned buffer. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
