/**
 * encodeMessage / decodeMessage: message objects to frames and back (layout in frame.ts).
 * Nothing a decoder returns has skipped validation: envelope, header type, every field,
 * payload length against the header's counts, and finite payload values.
 */
import { Packr } from 'msgpackr';
import { ProtocolError } from './errors.js';
import {
  MAX_HEADER_BYTES, concatBytes, readFloats, readFrame, writeFrame, type FloatArray,
} from './frame.js';
import type { Message, ModelCounts } from './messages.js';
import { SCHEMAS, describe, isMessageType, isPlainObject, validateHeader, type Segment } from './schema.js';

/** Headers are plain maps: records (msgpackr's structure extension) off. */
const packr = new Packr({ useRecords: false });

/** What ws hands a 'message' listener for a binary frame: Buffer, ArrayBuffer or Buffer[]. */
export type FrameInput = Uint8Array | ArrayBuffer | readonly Uint8Array[];

/**
 * Validates `message` with the receiver's rules and writes it as one frame, allocated once:
 * the header carries the scalar fields plus the lengths of the typed-array fields, which
 * are copied straight into the payload. Throws ProtocolError on anything a receiver would
 * refuse, so a bad message fails at its source.
 */
export function encodeMessage(message: Message): Uint8Array<ArrayBuffer> {
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
  const parts: FloatArray[] = [];
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
    parts.push(values);
  }
  validateHeader(type, header);
  segments.forEach((segment, i) => checkFinite(type, segment, parts[i]));
  const headerBytes: Uint8Array = packr.pack(header);
  if (headerBytes.length > MAX_HEADER_BYTES) {
    throw new ProtocolError('bad-header', `${type}: header is ${headerBytes.length} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  }
  return writeFrame(headerBytes, parts);
}

/**
 * Parses and validates one frame. Typed-array fields of the result are fresh, aligned
 * arrays (views into one copy of the payload), safe to keep after ws reuses its buffers.
 */
export function decodeMessage(data: FrameInput): Message {
  let frame: Uint8Array;
  let owned = false;
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
  const width = kind === 'f64' ? 8 : 4;
  const unit = kind === 'f64' ? 'float64 values' : 'floats';
  if (payloadBytes % width !== 0) {
    throw new ProtocolError('bad-length', `${type}: payload is ${payloadBytes} bytes, not a whole number of ${unit}`);
  }
  const lengths = segments.map((s) => (header[s.count] as number) * s.per);
  const expected = lengths.reduce((a, b) => a + b, 0);
  if (payloadBytes / width !== expected) {
    const says = segments.map((s) => `${s.per === 1 ? '' : `${s.per} x `}${s.count} ${header[s.count]}`).join(' + ');
    throw new ProtocolError('bad-length', `${type}: payload has ${payloadBytes / width} ${unit}, header says ${says}`);
  }

  const all = readFloats(raw.payload, kind, owned);
  let offset = 0;
  segments.forEach((segment, i) => {
    const values = all.subarray(offset, offset + lengths[i]);
    checkFinite(type, segment, values);
    header[segment.field] = values;
    delete header[segment.count];
    offset += lengths[i];
  });
  return header as unknown as Message;
}

/**
 * Checks the float payload of a welcome, step, params or gradient message against the
 * receiver's model; other messages pass unchanged. Returns the message for chaining.
 */
export function validateAgainst<M extends Message>(message: M, expected: ModelCounts): M {
  const schema = SCHEMAS[message.type];
  for (const segment of schema.payload?.segments ?? []) {
    if (segment.count !== 'paramCount' && segment.count !== 'bufferCount') continue;
    const length = ((message as unknown as Record<string, unknown>)[segment.field] as FloatArray).length;
    const want = expected[segment.count];
    if (length !== want) {
      throw new ProtocolError('bad-length', `${message.type}: carries ${length} ${segment.field} values, this model has ${segment.count} ${want}`);
    }
  }
  return message;
}

/** Rejects NaN and ±Infinity, naming the first offending element. */
function checkFinite(type: string, segment: Segment, values: FloatArray): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for finite v and NaN for NaN and ±Infinity.
    if (v - v !== 0) {
      throw new ProtocolError('non-finite', `${type}: ${segment.field}[${i}] is ${v}`);
    }
  }
}
