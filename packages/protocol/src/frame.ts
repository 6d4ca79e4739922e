/**
 * The frame envelope (DESIGN 8). Every message is one binary WebSocket frame:
 *
 *   offset 0        u32 little-endian H: byte length of the header
 *   offset 4        H bytes: the header, one msgpack map (msgpackr, useRecords: false)
 *   offset 4 + H    zero bytes up to the next multiple of 8 (0..7 of them)
 *   offset P        payload: raw little-endian float32 or float64 values, possibly none;
 *                   P = ceil((4 + H) / 8) · 8, the payload runs to the end of the frame
 *
 * The payload is the message's typed-array fields in schema order, each starting at a
 * multiple of its own width (zero bytes between): float32, float64, or 16-bit patterns of
 * float32 values (a gradient sent with `dtype` f16 or bf16).
 *
 * Padding to 8 lets payloads be viewed in place in a frame that starts 8-aligned. ws hands
 * out bytes at arbitrary offsets, so receivers view in place only bytes they own that
 * happen to be aligned and otherwise copy into fresh, aligned typed arrays (one copy).
 */
import { ProtocolError } from './errors.js';
import { decodeHalf, encodeHalf, type HalfKind } from './half.js';

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

/** How a payload segment travels: raw float32/float64, or 16-bit patterns of float32 values (half.ts). */
export type WireKind = FloatKind | HalfKind;

/** Bytes per value of a wire kind. */
export function wireWidth(kind: WireKind): number {
  return kind === 'f64' ? 8 : kind === 'f32' ? 4 : 2;
}

/** One typed-array field as it goes into a frame: its values, wire kind and (f16) scale. */
export interface PayloadPart {
  values: FloatArray;
  wire: WireKind;
  scale: number;
}

/** Payload byte offsets of the parts: each starts aligned to its own width (zero padding before it). */
export function partOffsets(widths: readonly number[], lengths: readonly number[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let at = 0;
  widths.forEach((width, i) => {
    at = Math.ceil(at / width) * width;
    offsets.push(at);
    at += width * lengths[i];
  });
  return { offsets, total: at };
}

/** Where frames are written: fresh memory by default, or a FramePool's recycled buffers. */
export type FrameAllocator = (bytes: number) => Uint8Array<ArrayBuffer>;

const freshFrame: FrameAllocator = (bytes) => new Uint8Array(bytes);

/** Writes prefix, header, zero padding and payload parts into one frame from `alloc`. */
export function writeFrame(
  header: Uint8Array,
  parts: readonly PayloadPart[],
  alloc: FrameAllocator = freshFrame,
  littleEndianHost = NATIVE_LITTLE_ENDIAN,
): Uint8Array<ArrayBuffer> {
  const start = payloadOffset(header.length);
  const { offsets, total } = partOffsets(parts.map((p) => wireWidth(p.wire)), parts.map((p) => p.values.length));
  const frame = alloc(start + total);
  const h = header.length;
  frame[0] = h & 0xff;
  frame[1] = (h >>> 8) & 0xff;
  frame[2] = (h >>> 16) & 0xff;
  frame[3] = (h >>> 24) & 0xff;
  frame.set(header, LENGTH_PREFIX_BYTES);
  frame.fill(0, LENGTH_PREFIX_BYTES + h, start); // recycled buffers hold old bytes
  let end = 0;
  parts.forEach((part, i) => {
    const at = start + offsets[i];
    frame.fill(0, start + end, at);
    if (part.wire === 'f16' || part.wire === 'bf16') writeHalves(frame, at, part, littleEndianHost);
    else writeFloats(frame, at, part.values, littleEndianHost);
    end = offsets[i] + wireWidth(part.wire) * part.values.length;
  });
  return frame;
}

function writeHalves(frame: Uint8Array, at: number, part: PayloadPart, littleEndianHost: boolean): void {
  const n = part.values.length;
  const halves = (frame.byteOffset + at) % 2 === 0 && littleEndianHost ? new Uint16Array(frame.buffer, frame.byteOffset + at, n) : new Uint16Array(n);
  encodeHalf(part.wire as HalfKind, part.values as Float32Array, part.scale, halves);
  if (halves.buffer === frame.buffer) return;
  const view = new DataView(frame.buffer, frame.byteOffset + at, 2 * n);
  for (let i = 0; i < n; i++) view.setUint16(2 * i, halves[i], true);
}

/** Reads 16-bit little-endian patterns (any offset) into a fresh Float32Array, dividing by `scale`. */
export function readHalves(bytes: Uint8Array, kind: HalfKind, scale: number, littleEndianHost = NATIVE_LITTLE_ENDIAN): Float32Array {
  const n = bytes.length / 2;
  let halves: Uint16Array;
  if (littleEndianHost && bytes.byteOffset % 2 === 0) halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  else {
    halves = new Uint16Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) halves[i] = view.getUint16(2 * i, true);
  }
  const out = new Float32Array(n);
  decodeHalf(kind, halves, scale, out);
  return out;
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
