/**
 * encodeMessage / decodeMessage: message objects to frames and back (layout in frame.ts).
 * Nothing a decoder returns has skipped validation: envelope, header type, every field,
 * payload length against the header's counts, and finite payload values.
 */
import { kernels } from '@flotilla/core';
import { Packr } from 'msgpackr';
import { ProtocolError } from './errors.js';
import {
  MAX_HEADER_BYTES, concatBytes, partOffsets, readFloats, readFrame, readHalves, wireWidth, writeFrame,
  type FloatArray, type FrameAllocator, type PayloadPart, type WireKind,
} from './frame.js';
import { f16ScaleOfMaxBits, maxAbsBits } from './half.js';
import type { Message, ModelCounts } from './messages.js';
import { SCHEMAS, describe, isMessageType, isPlainObject, validateHeader, type Segment } from './schema.js';

/** Headers are plain maps: records (msgpackr's structure extension) off. */
const packr = new Packr({ useRecords: false });

/** What ws hands a 'message' listener for a binary frame: Buffer, ArrayBuffer or Buffer[]. */
export type FrameInput = Uint8Array | ArrayBuffer | readonly Uint8Array[];

/**
 * Validates `message` with the receiver's rules and writes it as one frame, allocated once
 * (from `alloc`, e.g. a FramePool's, when given): the header carries the scalar fields plus
 * the lengths of the typed-array fields, which are copied straight into the payload (or
 * converted, for a gradient sent as f16/bf16). Throws ProtocolError on anything a receiver
 * would refuse, so a bad message fails at its source.
 */
export function encodeMessage(message: Message, alloc?: FrameAllocator): Uint8Array<ArrayBuffer> {
  const type: unknown = (message as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !isMessageType(type)) {
    throw new ProtocolError('unknown-type', `cannot encode a message of type ${describe(type)}`);
  }
  const schema = SCHEMAS[type];
  const source = message as unknown as Record<string, unknown>;
  const segments = schema.payload?.segments ?? [];
  const counts = new Set(segments.map((s) => s.count));
  const header: Record<string, unknown> = { type };
  for (const key of [...Object.keys(schema.required), ...Object.keys(schema.optional ?? {})]) {
    if (!counts.has(key) && source[key] !== undefined) header[key] = source[key];
  }
  const parts: PayloadPart[] = [];
  const Float = schema.payload?.kind === 'f64' ? Float64Array : Float32Array;
  for (const segment of segments) {
    const values = source[segment.field];
    if (!(values instanceof Float)) {
      throw new ProtocolError('bad-field', `${type}: field "${segment.field}" must be a ${Float.name}, got ${describe(values)}`);
    }
    if (values.length % segment.per !== 0) {
      throw new ProtocolError('bad-length', `${type}: "${segment.field}" has ${values.length} values, not a multiple of ${segment.per}`);
    }
    header[segment.count] = values.length / segment.per;
    const wire = segment.wire?.(header) ?? schema.payload!.kind;
    let scale = 1;
    if (wire === 'f16') {
      // One pass serves both the finite check and the scale: the largest |x| as float32 bits
      // is 0x7f800000 or more exactly when some value is NaN or infinite.
      const maxBits = maxAbsBits(values as Float32Array);
      if (maxBits >= 0x7f800000) checkFinite(type, segment, values); // throws, naming the first
      scale = f16ScaleOfMaxBits(maxBits);
      header.gradScale = scale;
    } else checkFinite(type, segment, values);
    parts.push({ values, wire, scale });
  }
  validateHeader(type, header);
  const headerBytes: Uint8Array = packr.pack(header);
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw new ProtocolError('bad-header', `${type}: header is ${headerBytes.length} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  }
  return writeFrame(headerBytes, parts, alloc);
}

/**
 * Parses and validates one frame. Typed-array fields of the result are aligned arrays safe
 * to keep: one aligned copy per field, or, when the caller hands the bytes over
 * (`owned`: nothing else holds or reuses them, as with the Buffer ws gives each 'message'
 * listener) and they happen to be aligned, views of `data` itself with no copy.
 */
export function decodeMessage(data: FrameInput, options: { owned?: boolean } = {}): Message {
  let frame: Uint8Array;
  let owned = options.owned ?? false;
  if (data instanceof Uint8Array) {
    frame = data;
  } else if (data instanceof ArrayBuffer) {
    frame = new Uint8Array(data);
  } else if (Array.isArray(data) && data.every((chunk) => chunk instanceof Uint8Array)) {
    frame = concatBytes(data);
    owned = true;
  } else {
    throw new ProtocolError('bad-frame', `expected a Uint8Array, ArrayBuffer or array of Uint8Array, got ${describe(data)}`);
  }

  const raw = readFrame(frame);
  let header: unknown;
  try {
    header = packr.unpack(raw.header);
  } catch (err) {
    throw new ProtocolError('bad-header', `header is not one msgpack value: ${(err as Error)?.message ?? String(err)}`);
  }
  if (!isPlainObject(header)) {
    throw new ProtocolError('bad-header', `header is ${describe(header)}, expected a msgpack map`);
  }
  const type = header.type;
  if (typeof type !== 'string') {
    throw new ProtocolError('bad-header', `header has no string "type" (got ${describe(type)})`);
  }
  if (!isMessageType(type)) {
    throw new ProtocolError('unknown-type', `unknown message type ${describe(type)}`);
  }
  validateHeader(type, header);

  const schema = SCHEMAS[type];
  const payloadBytes = raw.payload.length;
  if (!schema.payload) {
    if (payloadBytes !== 0) {
      throw new ProtocolError('bad-length', `${type}: expects no payload, got ${payloadBytes} bytes`);
    }
    return header as unknown as Message;
  }

  const { kind, segments } = schema.payload;
  const wires: WireKind[] = segments.map((s) => s.wire?.(header) ?? kind);
  const lengths = segments.map((s) => (header[s.count] as number) * s.per);
  const { offsets, total } = partOffsets(wires.map(wireWidth), lengths);
  if (payloadBytes !== total) {
    const says = segments.map((s) => `${s.per === 1 ? '' : `${s.per} x `}${s.count} ${header[s.count]}`).join(' + ');
    if (wires.some((w) => w !== kind)) {
      throw new ProtocolError('bad-length', `${type}: payload is ${payloadBytes} bytes, header says ${says} as ${wires.join(' + ')} (${total} bytes)`);
    }
    const width = wireWidth(kind);
    const unit = kind === 'f64' ? 'float64 values' : 'floats';
    if (payloadBytes % width !== 0) {
      throw new ProtocolError('bad-length', `${type}: payload is ${payloadBytes} bytes, not a whole number of ${unit}`);
    }
    throw new ProtocolError('bad-length', `${type}: payload has ${payloadBytes / width} ${unit}, header says ${says}`);
  }
  segments.forEach((segment, i) => {
    const end = offsets[i] + wireWidth(wires[i]) * lengths[i];
    const padFrom = i === 0 ? 0 : offsets[i - 1] + wireWidth(wires[i - 1]) * lengths[i - 1];
    for (let b = padFrom; b < offsets[i]; b++) {
      if (raw.payload[b] !== 0) throw new ProtocolError('bad-frame', `${type}: padding byte before "${segment.field}" is ${raw.payload[b]}, not 0`);
    }
    const bytes = raw.payload.subarray(offsets[i], end);
    const wire = wires[i];
    const values = wire === 'f16' || wire === 'bf16'
      ? readHalves(bytes, wire, wire === 'f16' ? header.gradScale as number : 1)
      : readFloats(bytes, wire, owned);
    checkFinite(type, segment, values);
    header[segment.field] = values;
    delete header[segment.count];
  });
  return header as unknown as Message;
}

/**
 * Checks the float payload of a welcome, params, gradient or gradient-part message against
 * the receiver's model (a part must lie inside the flat gradient, a gradient after parts
 * may be shorter than it); other messages pass unchanged. Returns the message for chaining.
 */
export function validateAgainst<M extends Message>(message: M, expected: ModelCounts): M {
  if (message.type === 'gradient-part') {
    const end = message.offset + message.gradient.length;
    if (end > expected.paramCount) {
      throw new ProtocolError('bad-length', `gradient-part: values [${message.offset}, ${end}) run past this model's paramCount ${expected.paramCount}`);
    }
    return message;
  }
  const schema = SCHEMAS[message.type];
  // A gradient sent after parts carries only the head of the flat gradient.
  const head = message.type === 'gradient' && message.parts !== undefined;
  for (const segment of schema.payload?.segments ?? []) {
    if (segment.count !== 'paramCount' && segment.count !== 'bufferCount') continue;
    const length = ((message as unknown as Record<string, unknown>)[segment.field] as FloatArray).length;
    const want = expected[segment.count];
    if (head && segment.field === 'gradient' ? length > want : length !== want) {
      throw new ProtocolError('bad-length', `${message.type}: carries ${length} ${segment.field} values, this model has ${segment.count} ${want}`);
    }
  }
  return message;
}

/**
 * Rejects NaN and ±Infinity, naming the first offending element. core's kernel checks
 * float32 payloads in WebAssembly SIMD on the exponent bits (about 0.2 ms for the default
 * model's 537k values, against 0.55 ms for the fastest JavaScript loop here); the float64
 * ones (SyncBN statistics, a few thousand values) in TypeScript.
 */
function checkFinite(type: string, segment: Segment, values: FloatArray): void {
  const bad = kernels.firstNonFinite(values);
  if (bad >= 0) throw new ProtocolError('non-finite', `${type}: ${segment.field}[${bad}] is ${values[bad]}`);
}
