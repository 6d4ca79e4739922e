import { Packr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES, PROTOCOL_VERSION, ProtocolError, decodeMessage, encodeMessage, frameLimits,
  isCoordinatorMessage, isWorkerMessage, validateAgainst, type GradientMessage, type Message,
} from '../src/index.js';
import { readFloats, writeFloats } from '../src/frame.js';
import { B, P, atOffset, bytesOf, expectSameMessage, floats32, floats64, sampleMessages } from './helpers.js';

function headerOf(frame: Uint8Array): unknown {
  const h = new DataView(frame.buffer, frame.byteOffset).getUint32(0, true);
  return unpack(frame.subarray(4, 4 + h));
}

describe('round trip', () => {
  for (const message of sampleMessages()) {
    it(`${message.type} (${Object.keys(message).length} fields)`, () => {
      const frame = encodeMessage(message);
      expectSameMessage(decodeMessage(frame), message, expect);
    });
  }

  it('decodes frames at odd offsets, as ArrayBuffer and as fragments', () => {
    for (const message of sampleMessages()) {
      const frame = encodeMessage(message);
      for (const offset of [1, 3, 5, 7]) {
        const shifted = atOffset(frame, offset);
        expect(shifted.byteOffset % 2).toBe(1);
        expectSameMessage(decodeMessage(shifted), message, expect);
      }
      expectSameMessage(decodeMessage(frame.slice().buffer), message, expect);
      const cut = [0, 1, Math.floor(frame.length / 3), frame.length - 1, frame.length];
      const fragments = cut.slice(1).map((end, i) => atOffset(frame.subarray(cut[i], end), 3));
      expectSameMessage(decodeMessage(fragments), message, expect);
    }
  });

  it('returns fresh aligned arrays that do not alias the received bytes', () => {
    const message = sampleMessages().find((m) => m.type === 'gradient') as GradientMessage;
    const received = atOffset(encodeMessage(message), 1);
    const decoded = decodeMessage(received) as GradientMessage;
    for (const values of [decoded.gradient, decoded.buffers]) {
      expect(values.byteOffset % 4).toBe(0);
      expect(values.buffer).not.toBe(received.buffer);
    }
    received.fill(0);
    expect(bytesOf(decoded.gradient)).toEqual(bytesOf(message.gradient));
    expect(bytesOf(decoded.buffers)).toEqual(bytesOf(message.buffers));
  });

  it('accepts typed arrays that are views into larger or shared buffers', () => {
    const shared = new Float32Array(new SharedArrayBuffer(4 * (P + B + 3)));
    shared.set(floats32(P + B + 3, 11));
    const message: GradientMessage = {
      type: 'gradient', step: 1, samples: 2, lossSum: 0.5, timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0 },
      gradient: shared.subarray(1, 1 + P), buffers: shared.subarray(1 + P, 1 + P + B),
    };
    const decoded = decodeMessage(encodeMessage(message)) as GradientMessage;
    expect(bytesOf(decoded.gradient)).toEqual(bytesOf(message.gradient));
    expect(bytesOf(decoded.buffers)).toEqual(bytesOf(message.buffers));
  });

  it('ignores properties outside the schema when encoding', () => {
    const message = { type: 'bye', reason: 'done', extra: new Float32Array(3) } as unknown as Message;
    expect(headerOf(encodeMessage(message))).toEqual({ type: 'bye', reason: 'done' });
  });
});

describe('frame layout', () => {
  /** Builds a frame from the format's description alone: no codec code involved. */
  function handBuilt(header: object, values: number[], width: 4 | 8): Uint8Array {
    const headerBytes = new Packr({ useRecords: false }).pack(header);
    const payloadStart = Math.ceil((4 + headerBytes.length) / 8) * 8;
    const frame = new Uint8Array(payloadStart + width * values.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, headerBytes.length, true);
    frame.set(headerBytes, 4);
    values.forEach((v, i) => (width === 4
      ? view.setFloat32(payloadStart + 4 * i, v, true)
      : view.setFloat64(payloadStart + 8 * i, v, true)));
    return frame;
  }

  it('decodes a hand-built gradient frame, and encodes the same bytes', () => {
    const header = {
      type: 'gradient', step: 4, samples: 3, lossSum: 2.5,
      timings: { computeMs: 1, bnWaitMs: 2, serializeMs: 3 },
      paramCount: 3, bufferCount: 2,
    };
    const frame = handBuilt(header, [1.5, -2, 0.25, 8, -0.5], 4);
    const message = decodeMessage(atOffset(frame, 3)) as GradientMessage;
    expect(message).toEqual({
      type: 'gradient', step: 4, samples: 3, lossSum: 2.5,
      timings: { computeMs: 1, bnWaitMs: 2, serializeMs: 3 },
      gradient: new Float32Array([1.5, -2, 0.25]),
      buffers: new Float32Array([8, -0.5]),
    });
    expect(Array.from(encodeMessage(message))).toEqual(Array.from(frame));
  });

  it('decodes a hand-built bn frame with a float64 payload, and encodes the same bytes', () => {
    const values = [0.1, 1 / 3, 12345.678901234567, 2 ** -40];
    const header = { type: 'bn', step: 2, layer: 1, phase: 'forward', count: 10, channels: 2 };
    const frame = handBuilt(header, values, 8);
    const message = decodeMessage(atOffset(frame, 5));
    expect(message).toEqual({ type: 'bn', step: 2, layer: 1, phase: 'forward', count: 10, values: new Float64Array(values) });
    expect(Array.from(encodeMessage(message))).toEqual(Array.from(frame));
  });

  it('pads the header with zeros so the payload starts at a multiple of 8', () => {
    for (const message of sampleMessages()) {
      const frame = encodeMessage(message);
      const h = new DataView(frame.buffer).getUint32(0, true);
      const start = Math.ceil((4 + h) / 8) * 8;
      expect(start % 8).toBe(0);
      expect(Array.from(frame.subarray(4 + h, start)).every((b) => b === 0)).toBe(true);
      const payloadBytes = frame.length - start;
      const counts = headerOf(frame) as Record<string, number>;
      const gradientWidth = 'dtype' in counts ? 2 : 4;
      if (message.type === 'bn') expect(payloadBytes).toBe(16 * counts.channels);
      else if (message.type === 'gradient-part') expect(payloadBytes).toBe(gradientWidth * counts.partCount);
      else if (message.type === 'gradient') expect(payloadBytes).toBe(gradientWidth * counts.paramCount + 4 * counts.bufferCount);
      else expect(payloadBytes).toBe(4 * ((counts.paramCount ?? 0) + (counts.bufferCount ?? 0)));
    }
  });

  it('headers contain only plain JSON values (no typed arrays, no msgpackr records)', () => {
    const isJson = (v: unknown): boolean => v === null || ['string', 'boolean'].includes(typeof v)
      || (typeof v === 'number' && Number.isFinite(v))
      || (Array.isArray(v) && v.every(isJson))
      || (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(isJson));
    for (const message of sampleMessages()) {
      const header = headerOf(encodeMessage(message));
      expect(isJson(header)).toBe(true);
      expect(JSON.parse(JSON.stringify(header))).toEqual(header);
    }
  });

  it('writes and reads the same little-endian bytes on the byte-swapping path', () => {
    const f32 = floats32(9, 1);
    const f64 = floats64(5, 2);
    for (const values of [f32, f64]) {
      const fast = new Uint8Array(values.byteLength + 3);
      const slow = new Uint8Array(values.byteLength + 3);
      writeFloats(fast, 3, values, true);
      writeFloats(slow, 3, values, false);
      expect(Array.from(slow)).toEqual(Array.from(fast));
      const kind = values instanceof Float64Array ? 'f64' : 'f32';
      expect(bytesOf(readFloats(slow.subarray(3), kind, false, false))).toEqual(bytesOf(values));
      expect(bytesOf(readFloats(slow.subarray(3), kind, false, true))).toEqual(bytesOf(values));
    }
  });
});

describe('validateAgainst', () => {
  const model = { paramCount: P, bufferCount: B };

  it('passes messages that match the model and those without float payloads', () => {
    for (const message of sampleMessages()) {
      expect(validateAgainst(message, model)).toBe(message);
    }
  });

  it('names the mismatching count', () => {
    const gradient = sampleMessages().find((m) => m.type === 'gradient')!;
    expect(() => validateAgainst(gradient, { paramCount: 535818, bufferCount: B }))
      .toThrow(new ProtocolError('bad-length', `gradient: carries ${P} gradient values, this model has paramCount 535818`));
    const step = sampleMessages().find((m) => m.type === 'params')!;
    expect(() => validateAgainst(step, { paramCount: P, bufferCount: 1536 }))
      .toThrow(`params: carries ${B} buffers values, this model has bufferCount 1536`);
  });

  it('takes a gradient after parts as the head of the flat gradient, and a part as a range inside it', () => {
    const model = { paramCount: P, bufferCount: B };
    const [tail, middle] = sampleMessages().filter((m) => m.type === 'gradient-part');
    const head = sampleMessages().find((m) => m.type === 'gradient' && m.parts !== undefined)!;
    expect(validateAgainst(tail, model)).toBe(tail);
    expect(validateAgainst(middle, model)).toBe(middle);
    expect(validateAgainst(head, model)).toBe(head);
    // Parts may not run past the model, a head may not be longer than it ...
    expect(() => validateAgainst(tail, { paramCount: P - 1, bufferCount: B }))
      .toThrow(new ProtocolError('bad-length', `gradient-part: values [30, ${P}) run past this model's paramCount ${P - 1}`));
    expect(() => validateAgainst(head, { paramCount: 11, bufferCount: B }))
      .toThrow(new ProtocolError('bad-length', 'gradient: carries 12 gradient values, this model has paramCount 11'));
    // ... and without parts a gradient is the whole of it.
    const { parts: _parts, ...whole } = head as GradientMessage;
    expect(() => validateAgainst(whole, model)).toThrow(`gradient: carries 12 gradient values, this model has paramCount ${P}`);
  });
});

describe('frameLimits', () => {
  it('bounds every frame a model produces', () => {
    const limits = frameLimits({ paramCount: P, bufferCount: B });
    expect(limits.maxHeaderBytes).toBe(MAX_HEADER_BYTES);
    expect(limits.maxPayloadBytes).toBe(4 * (P + B));
    for (const message of sampleMessages()) {
      expect(encodeMessage(message).length).toBeLessThanOrEqual(limits.maxFrameBytes);
    }
    expect(limits.maxFrameBytes).toBe(MAX_HEADER_BYTES + 8 + 4 * (P + B));
  });

  it('covers bn frames of a model with BatchNorm buffers but few parameters', () => {
    const limits = frameLimits({ paramCount: 0, bufferCount: 2048 });
    expect(limits.maxPayloadBytes).toBe(16 * 1024);
    expect(frameLimits({ paramCount: 0, bufferCount: 0 }, { maxChannels: 10 }).maxPayloadBytes).toBe(160);
    expect(() => frameLimits({ paramCount: -1, bufferCount: 0 })).toThrow(RangeError);
  });
});

it('sorts messages by the side that may send them', () => {
  const from = (m: Message) => `${isWorkerMessage(m) ? 'W' : ''}${isCoordinatorMessage(m) ? 'C' : ''}`;
  expect(Object.fromEntries(sampleMessages().map((m) => [m.type, from(m)]))).toEqual({
    hello: 'W', welcome: 'C', step: 'C', params: 'C', bn: 'WC', gradient: 'W', 'gradient-part': 'W', trace: 'W', heartbeat: 'WC', error: 'WC', bye: 'WC',
  });
});

it('PROTOCOL_VERSION is 5', () => {
  expect(PROTOCOL_VERSION).toBe(5);
});
