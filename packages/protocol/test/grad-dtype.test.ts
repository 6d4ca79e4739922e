import { Packr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  ProtocolError, bf16Bits, bf16Value, decodeMessage, encodeMessage, f16Bits, f16Scale, f16Value, payloadOffset,
  type GradientMessage, type Message, type ProtocolErrorCode,
} from '../src/index.js';
import { readHalves, writeFrame, type PayloadPart } from '../src/frame.js';
import { atOffset, bytesOf, floats32, seeded } from './helpers.js';

const packr = new Packr({ useRecords: false });
const timings = { computeMs: 1, bnWaitMs: 0, serializeMs: 0 };

function gradientMessage(gradient: Float32Array, buffers: Float32Array, dtype?: 'f16' | 'bf16'): GradientMessage {
  return { type: 'gradient', step: 7, samples: 32, lossSum: 12.75, timings, gradient, buffers, ...(dtype ? { dtype } : {}) };
}

/** Gradient-like values: signed zeros, a spread of magnitudes over 2^-40..2^8, some exact small integers. */
function gradientValues(n: number, seed: number): Float32Array {
  const rand = seeded(seed);
  const out = new Float32Array(n);
  const specials = [0, -0, 1, -2, 0.1];
  for (let i = 0; i < n; i++) {
    out[i] = i < specials.length ? specials[i] : (rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 48 - 40);
  }
  return out;
}

function headerOf(frame: Uint8Array): Record<string, unknown> {
  const h = new DataView(frame.buffer, frame.byteOffset).getUint32(0, true);
  return unpack(frame.subarray(4, 4 + h)) as Record<string, unknown>;
}

function payloadOf(frame: Uint8Array): Uint8Array {
  const h = new DataView(frame.buffer, frame.byteOffset).getUint32(0, true);
  return frame.subarray(payloadOffset(h));
}

/** |decoded - x| within the documented error: 2^-11 relative for f16 normals after scaling (absolute half a subnormal step below), 2^-8 for bf16. */
function expectWithinError(decoded: Float32Array, original: Float32Array, dtype: 'f16' | 'bf16', scale: number): void {
  expect(decoded.length).toBe(original.length);
  for (let i = 0; i < original.length; i++) {
    const x = original[i];
    const d = decoded[i];
    const bound = dtype === 'f16' ? Math.max(2 ** -11 * Math.abs(x), 2 ** -25 / scale) : Math.max(2 ** -8 * Math.abs(x), 2 ** -134);
    if (!(Math.abs(d - x) <= bound)) throw new Error(`${dtype} gradient[${i}]: ${x} came back as ${d} (error bound ${bound})`);
    if (x === 0 && !Object.is(Math.sign(d), Math.sign(x))) throw new Error(`${dtype} gradient[${i}]: ${x} came back as ${d}`);
    // ...and it is exactly the nearest 16-bit value (over the scale), i.e. the wire really carried 16 bits.
    const expected = dtype === 'f16' ? f16Value(f16Bits(x * scale)) / scale : bf16Value(bf16Bits(x));
    if (!Object.is(d, Math.fround(expected))) throw new Error(`${dtype} gradient[${i}]: ${x} came back as ${d}, not ${expected}`);
  }
}

function expectRejected(input: Uint8Array, code: ProtocolErrorCode, message: string | RegExp): void {
  let error: unknown;
  try {
    decodeMessage(input);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).code).toBe(code);
  if (typeof message === 'string') expect((error as ProtocolError).message).toBe(message);
  else expect((error as ProtocolError).message).toMatch(message);
}

/** A frame with this header and raw payload bytes, built from the format description alone. */
function handBuilt(header: object, payload: Uint8Array): Uint8Array {
  const headerBytes = packr.pack(header);
  const start = Math.ceil((4 + headerBytes.length) / 8) * 8;
  const frame = new Uint8Array(start + payload.length);
  new DataView(frame.buffer).setUint32(0, headerBytes.length, true);
  frame.set(headerBytes, 4);
  frame.set(payload, start);
  return frame;
}

/** Little-endian u16 patterns, `pad` zero bytes, then little-endian float32 values. */
function halfPayload(halves: number[], pad: number, floats: number[]): Uint8Array {
  const bytes = new Uint8Array(2 * halves.length + pad + 4 * floats.length);
  const view = new DataView(bytes.buffer);
  halves.forEach((h, i) => view.setUint16(2 * i, h, true));
  floats.forEach((v, i) => view.setFloat32(2 * halves.length + pad + 4 * i, v, true));
  return bytes;
}

/** A gradient header with its keys in the order the encoder writes them (schema order, counts last). */
const halfHeader = (dtype: 'f16' | 'bf16', paramCount: number, bufferCount: number, extra: object = {}) => ({
  type: 'gradient', step: 1, samples: 2, lossSum: 0.5, timings, dtype,
  ...(dtype === 'f16' ? { gradScale: 1 } : {}), ...extra, paramCount, bufferCount,
});

describe('gradient round trip with dtype f16 / bf16', () => {
  for (const dtype of ['f16', 'bf16'] as const) {
    for (const [p, b] of [[37, 6], [36, 6], [1, 3], [2, 1], [0, 4], [5, 0], [0, 0], [1001, 17]]) {
      it(`${dtype}, ${p} gradient values (${p % 2 ? 'odd: 2 padding bytes' : 'even: no padding'}), ${b} buffers`, () => {
        const message = gradientMessage(gradientValues(p, 100 + p), floats32(b, 200 + b), dtype);
        const frame = encodeMessage(message);
        const pad = (2 * p) % 4;
        const payload = payloadOf(frame);
        expect(payload.length).toBe(2 * p + pad + 4 * b);
        expect(Array.from(payload.subarray(2 * p, 2 * p + pad))).toEqual(new Array(pad).fill(0));

        const header = headerOf(frame);
        expect(header.dtype).toBe(dtype);
        const scale = f16Scale(message.gradient);
        if (dtype === 'f16') expect(header.gradScale).toBe(scale);
        else expect('gradScale' in header).toBe(false);

        for (const input of [frame, atOffset(frame, 1), atOffset(frame, 2), atOffset(frame, 3)]) {
          const decoded = decodeMessage(input) as GradientMessage;
          expect(decoded.dtype).toBe(dtype);
          if (dtype === 'f16') expect(decoded.gradScale).toBe(scale);
          else expect('gradScale' in decoded).toBe(false);
          const { gradient: _g, buffers: _b, gradScale: _s, ...rest } = decoded;
          const { gradient: _g2, buffers: _b2, ...restIn } = message;
          expect(rest).toEqual(restIn);
          expect(decoded.gradient).toBeInstanceOf(Float32Array);
          expectWithinError(decoded.gradient, message.gradient, dtype, dtype === 'f16' ? scale : 1);
          expect(decoded.buffers).toBeInstanceOf(Float32Array);
          expect(bytesOf(decoded.buffers)).toEqual(bytesOf(message.buffers));
        }
      });
    }
  }

  it('without dtype the gradient travels as float32, bit-exact, with neither dtype nor gradScale', () => {
    const message = gradientMessage(gradientValues(37, 5), floats32(6, 6));
    const frame = encodeMessage(message);
    expect(payloadOf(frame).length).toBe(4 * (37 + 6));
    expect('dtype' in headerOf(frame) || 'gradScale' in headerOf(frame)).toBe(false);
    const decoded = decodeMessage(frame) as GradientMessage;
    expect('dtype' in decoded || 'gradScale' in decoded).toBe(false);
    expect(bytesOf(decoded.gradient)).toEqual(bytesOf(message.gradient));
  });

  it('f16 actually loses what 11 bits cannot hold, and bf16 what 8 cannot', () => {
    const gradient = new Float32Array([1 + 2 ** -10, 1 + 2 ** -7, 1 + 2 ** -13]);
    const f16 = decodeMessage(encodeMessage(gradientMessage(gradient, new Float32Array(0), 'f16'))) as GradientMessage;
    expect(Array.from(f16.gradient)).toEqual([1 + 2 ** -10, 1 + 2 ** -7, 1]);
    const bf16 = decodeMessage(encodeMessage(gradientMessage(gradient, new Float32Array(0), 'bf16'))) as GradientMessage;
    expect(Array.from(bf16.gradient)).toEqual([1, 1 + 2 ** -7, 1]);
  });

  it('f16 keeps small entries of a gradient with a large maximum, scaled, to the error bound', () => {
    const gradient = new Float32Array([60000, 3e-3, -7e-5, 1e-9]);
    const decoded = decodeMessage(encodeMessage(gradientMessage(gradient, new Float32Array(0), 'f16'))) as GradientMessage;
    expect(decoded.gradScale).toBe(0.5);
    expectWithinError(decoded.gradient, gradient, 'f16', 0.5);
    // Unscaled f16 would hold 60000 too, but here the point is the scale: 2^14 · 2^-30 survives as a normal half.
    const tiny = new Float32Array([2 ** -30, 2 ** -40, -(2 ** -35)]);
    const small = decodeMessage(encodeMessage(gradientMessage(tiny, new Float32Array(0), 'f16'))) as GradientMessage;
    expect(small.gradScale).toBe(2 ** 44);
    expect(Array.from(small.gradient)).toEqual(Array.from(tiny));
  });

  it('an all-zero or nonFinite gradient goes with gradScale 1', () => {
    const zeros = gradientMessage(new Float32Array(5), new Float32Array(2), 'f16');
    const decoded = decodeMessage(encodeMessage({ ...zeros, nonFinite: true })) as GradientMessage;
    expect(decoded.gradScale).toBe(1);
    expect(decoded.nonFinite).toBe(true);
    expect(Array.from(decoded.gradient)).toEqual([0, 0, 0, 0, 0]);
  });

  it('the encoder picks gradScale itself, whatever the message says', () => {
    const message = { ...gradientMessage(new Float32Array([1000, -3]), new Float32Array(0), 'f16'), gradScale: 1 };
    const decoded = decodeMessage(encodeMessage(message)) as GradientMessage;
    expect(decoded.gradScale).toBe(32);
    expect(Array.from(decoded.gradient)).toEqual([1000, -3]);
  });

  it('f16 gradients at the edges of float32 encode to frames the decoder accepts', () => {
    // float32's largest rounds to 2^15 at scale 2^-113, i.e. 2^128: it must stay finite.
    const huge = new Float32Array([3.4028234663852886e38, -3.4028234663852886e38, 3.4e38, 1e30, 1]);
    const decodedHuge = decodeMessage(encodeMessage(gradientMessage(huge, new Float32Array(0), 'f16'))) as GradientMessage;
    expect(decodedHuge.gradScale).toBe(2 ** -113);
    expect(Array.from(decodedHuge.gradient).every(Number.isFinite)).toBe(true);
    for (let i = 0; i < 4; i++) expect(Math.abs(decodedHuge.gradient[i] - huge[i])).toBeLessThanOrEqual(2 ** -11 * Math.abs(huge[i]));
    expect(decodedHuge.gradient[0]).toBe(2 ** 128 - 2 ** 117); // 0x77ff · 2^113: the largest half that stays finite
    // Maxima below 2^-112 would need a scale over 2^126, the largest a receiver accepts.
    const tiny = new Float32Array([2 ** -120, -1e-40, 2 ** -149, 0, -3 * 2 ** -149]);
    const decodedTiny = decodeMessage(encodeMessage(gradientMessage(tiny, new Float32Array(0), 'f16'))) as GradientMessage;
    expect(decodedTiny.gradScale).toBe(2 ** 126);
    expectWithinError(decodedTiny.gradient, tiny, 'f16', 2 ** 126);
    expect([0, 2, 3, 4].map((i) => decodedTiny.gradient[i])).toEqual([2 ** -120, 2 ** -149, 0, -3 * 2 ** -149]);
  });

  it('bf16 keeps float32 extremes finite', () => {
    const extremes = new Float32Array([3.4028234663852886e38, -3.4028234663852886e38, 2 ** -149, -1.1754942106924411e-38]);
    const decoded = decodeMessage(encodeMessage(gradientMessage(extremes, new Float32Array(0), 'bf16'))) as GradientMessage;
    // float32's largest subnormal rounds up to the smallest normal, 2^-126.
    expect(Array.from(decoded.gradient)).toEqual([bf16Value(0x7f7f), -bf16Value(0x7f7f), 0, -(2 ** -126)]);
  });
});

describe('half-precision frame layout', () => {
  it('decodes a hand-built f16 frame (odd count, 2 padding bytes) and encodes the same bytes', () => {
    const header = halfHeader('f16', 3, 2, { gradScale: 2 ** 12 });
    // 2^14, -2, 0x3555 (0.333251953125), then 2 zero bytes, then float32 8 and -0.5.
    const frame = handBuilt(header, halfPayload([0x7400, 0xc000, 0x3555], 2, [8, -0.5]));
    const message = decodeMessage(atOffset(frame, 3)) as GradientMessage;
    expect(message).toEqual({
      type: 'gradient', step: 1, samples: 2, lossSum: 0.5, timings, dtype: 'f16', gradScale: 2 ** 12,
      gradient: new Float32Array([4, -(2 ** -11), 0.333251953125 / 4096]),
      buffers: new Float32Array([8, -0.5]),
    });
    expect(Array.from(encodeMessage(message))).toEqual(Array.from(frame));
  });

  it('decodes a hand-built bf16 frame (even count, no padding) and encodes the same bytes', () => {
    const header = halfHeader('bf16', 2, 1);
    const frame = handBuilt(header, halfPayload([0x3f80, 0xc2f7], 0, [1.5]));
    const message = decodeMessage(atOffset(frame, 1)) as GradientMessage;
    expect(message).toEqual({
      type: 'gradient', step: 1, samples: 2, lossSum: 0.5, timings, dtype: 'bf16',
      gradient: new Float32Array([1, -123.5]),
      buffers: new Float32Array([1.5]),
    });
    expect(Array.from(encodeMessage(message))).toEqual(Array.from(frame));
  });

  it('writes and reads the same little-endian 16-bit patterns on the byte-swapping path', () => {
    const gradient = gradientValues(9, 3);
    const buffers = floats32(3, 4);
    const header = packr.pack({ any: 'header' });
    for (const wire of ['f16', 'bf16'] as const) {
      const scale = wire === 'f16' ? f16Scale(gradient) : 1;
      const parts: PayloadPart[] = [{ values: gradient, wire, scale }, { values: buffers, wire: 'f32', scale: 1 }];
      const fast = writeFrame(header, parts, undefined, true);
      const slow = writeFrame(header, parts, undefined, false);
      expect(Array.from(slow)).toEqual(Array.from(fast));
      const halves = atOffset(payloadOf(fast).subarray(0, 18), 1);
      expect(bytesOf(readHalves(halves, wire, scale, false))).toEqual(bytesOf(readHalves(halves, wire, scale, true)));
      expect(bytesOf(readHalves(halves, wire, scale, false))).toEqual(bytesOf(readHalves(payloadOf(fast).subarray(0, 18), wire, scale)));
    }
  });

  it('writes into frames from an allocator at odd offsets', () => {
    const message = gradientMessage(gradientValues(7, 8), floats32(2, 9), 'f16');
    const memory = new ArrayBuffer(4096);
    const frame = encodeMessage(message, (n) => new Uint8Array(memory, 3, n));
    expect(frame.byteOffset).toBe(3);
    expect(Array.from(frame)).toEqual(Array.from(encodeMessage(message)));
  });
});

describe('half-precision rejections', () => {
  it('rejects a nonzero padding byte between the 16-bit gradient and the float32 buffers', () => {
    const payload = halfPayload([0x3c00, 0x3c00, 0x3c00], 2, [1, 2]);
    expect(decodeMessage(handBuilt(halfHeader('bf16', 3, 2), payload)).type).toBe('gradient');
    for (const at of [6, 7]) {
      const bad = payload.slice();
      bad[at] = 7;
      expectRejected(handBuilt(halfHeader('bf16', 3, 2), bad), 'bad-frame', 'gradient: padding byte before "buffers" is 7, not 0');
      expectRejected(atOffset(handBuilt(halfHeader('f16', 3, 2), bad), 1), 'bad-frame', 'gradient: padding byte before "buffers" is 7, not 0');
    }
  });

  it('rejects a payload of the wrong length, naming the wire kinds', () => {
    // 3 halves + 2 padding bytes + 2 floats = 16 bytes.
    for (const bytes of [14, 15, 17, 20]) {
      expectRejected(handBuilt(halfHeader('f16', 3, 2), new Uint8Array(bytes)), 'bad-length',
        `gradient: payload is ${bytes} bytes, header says paramCount 3 + bufferCount 2 as f16 + f32 (16 bytes)`);
    }
    // Missing the padding: 3 halves followed straight by the floats.
    expectRejected(handBuilt(halfHeader('bf16', 3, 2), halfPayload([0x3c00, 0x3c00, 0x3c00], 0, [1, 2])), 'bad-length',
      'gradient: payload is 14 bytes, header says paramCount 3 + bufferCount 2 as bf16 + f32 (16 bytes)');
    // A float32 payload under a half-precision header.
    expectRejected(handBuilt(halfHeader('bf16', 3, 2), new Uint8Array(4 * 5)), 'bad-length',
      'gradient: payload is 20 bytes, header says paramCount 3 + bufferCount 2 as bf16 + f32 (16 bytes)');
    // A half-precision payload under a float32 header.
    const { dtype: _d, gradScale: _s, ...f32Header } = halfHeader('f16', 4, 2);
    expectRejected(handBuilt(f32Header, new Uint8Array(2 * 4 + 4 * 2)), 'bad-length',
      'gradient: payload has 4 floats, header says paramCount 4 + bufferCount 2');
  });

  it('rejects gradScale without f16 and f16 without gradScale', () => {
    const payload = halfPayload([0x3c00], 2, []);
    const problem = 'gradient: field "gradScale" goes with dtype "f16" and only with it';
    expectRejected(handBuilt(halfHeader('bf16', 1, 0, { gradScale: 1 }), payload), 'bad-field', problem);
    const { gradScale: _s, ...noScale } = halfHeader('f16', 1, 0);
    expectRejected(handBuilt(noScale, payload), 'bad-field', problem);
    const { dtype: _d, ...noDtype } = halfHeader('f16', 1, 0);
    expectRejected(handBuilt(noDtype, new Uint8Array(4)), 'bad-field', problem);
    expectRejected(handBuilt(halfHeader('f16', 1, 0, { dtype: 'f32' }), new Uint8Array(4)), 'bad-field',
      'gradient: field "dtype" must be one of "f16", "bf16", got "f32"');
  });

  it('rejects a gradScale that is not a power of two in [2^-126, 2^126]', () => {
    const payload = halfPayload([0x3c00, 0x3c00], 0, []);
    for (const ok of [1, 2 ** 126, 2 ** -126, 2 ** 44, 0.5]) {
      expect((decodeMessage(handBuilt(halfHeader('f16', 2, 0, { gradScale: ok }), payload)) as GradientMessage).gradScale).toBe(ok);
    }
    for (const bad of [3, 0.75, 0, -4, -0.5, 2 ** 127, 2 ** -127, 2 ** 64 * (1 + 2 ** -52), 2 ** 100 * (1 - 2 ** -53), NaN, Infinity, '4', true]) {
      expectRejected(handBuilt(halfHeader('f16', 2, 0, { gradScale: bad }), payload), 'bad-field',
        /^gradient: field "gradScale" must be a power of two in \[2\^-126, 2\^126\], got /);
    }
  });

  it('rejects infinity and NaN patterns in a 16-bit gradient as non-finite', () => {
    const cases: [('f16' | 'bf16'), number, string][] = [
      ['f16', 0x7c00, 'Infinity'], ['f16', 0xfc00, '-Infinity'], ['f16', 0x7e00, 'NaN'], ['f16', 0x7c01, 'NaN'],
      ['bf16', 0x7f80, 'Infinity'], ['bf16', 0xff80, '-Infinity'], ['bf16', 0x7fc0, 'NaN'],
    ];
    for (const [dtype, pattern, shown] of cases) {
      const payload = halfPayload([0x3c00, pattern, 0x3c00], 2, [1]);
      expectRejected(handBuilt(halfHeader(dtype, 3, 1), payload), 'non-finite', `gradient: gradient[1] is ${shown}`);
    }
    // Finite halves that divide out past float32 under a tiny (forged) scale.
    expectRejected(handBuilt(halfHeader('f16', 1, 0, { gradScale: 2 ** -126 }), halfPayload([0x7bff], 2, [])), 'non-finite',
      'gradient: gradient[0] is Infinity');
    // Buffers stay float32 and are checked too.
    const view = halfPayload([0x3c00], 2, [1, 0]);
    new DataView(view.buffer).setFloat32(8, -Infinity, true);
    expectRejected(handBuilt(halfHeader('bf16', 1, 2), view), 'non-finite', 'gradient: buffers[1] is -Infinity');
  });

  it('encoding refuses what decoding would', () => {
    const base = gradientMessage(new Float32Array([1, NaN]), new Float32Array(0), 'f16');
    const expectEncodeError = (message: unknown, code: ProtocolErrorCode, text: string) => {
      let error: unknown;
      try {
        encodeMessage(message as Message);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe(code);
      expect((error as ProtocolError).message).toBe(text);
    };
    expectEncodeError(base, 'non-finite', 'gradient: gradient[1] is NaN');
    const ok = { ...base, gradient: new Float32Array([1, 2]) };
    expectEncodeError({ ...ok, dtype: 'bf16', gradScale: 4 }, 'bad-field', 'gradient: field "gradScale" goes with dtype "f16" and only with it');
    expectEncodeError({ ...ok, dtype: undefined, gradScale: 4 }, 'bad-field', 'gradient: field "gradScale" goes with dtype "f16" and only with it');
    expectEncodeError({ ...ok, dtype: 'f8' }, 'bad-field', 'gradient: field "dtype" must be one of "f16", "bf16", got "f8"');
  });
});

describe('half-precision fuzz', () => {
  it('mutated f16/bf16 gradient frames decode to messages that re-encode, or throw ProtocolError', () => {
    const rand = seeded(20250101);
    const int = (n: number) => Math.floor(rand() * n);
    const sources = [
      encodeMessage(gradientMessage(gradientValues(37, 1), floats32(6, 2), 'f16')),
      encodeMessage(gradientMessage(gradientValues(36, 3), floats32(5, 4), 'bf16')),
      encodeMessage(gradientMessage(gradientValues(3, 5), new Float32Array(0), 'f16')),
      handBuilt(halfHeader('f16', 2, 1, { gradScale: 2 ** 126 }), halfPayload([0x0001, 0x0002], 0, [1])),
      handBuilt(halfHeader('f16', 2, 1, { gradScale: 2 ** -113 }), halfPayload([0x77ff, 0xf7ff], 0, [1])),
    ];
    const outcomes = new Map<string, number>();
    for (let iteration = 0; iteration < 3000; iteration++) {
      const bytes = sources[int(sources.length)].slice();
      const start = payloadOffset(new DataView(bytes.buffer).getUint32(0, true));
      for (let m = 1 + int(3); m > 0; m--) {
        if (rand() < 0.8 && bytes.length > start) bytes[start + int(bytes.length - start)] = int(256); // payload byte
        else bytes[int(bytes.length)] ^= 1 << int(8); // any bit
      }
      let outcome: string;
      try {
        const message = decodeMessage(atOffset(bytes, int(4))) as GradientMessage;
        outcome = `ok ${message.dtype ?? 'f32'}`;
        if (message.type === 'gradient' && message.dtype) {
          const again = decodeMessage(encodeMessage(message)) as GradientMessage;
          expect(again.dtype).toBe(message.dtype);
          expect(bytesOf(again.buffers)).toEqual(bytesOf(message.buffers));
          const scale = message.dtype === 'f16' ? f16Scale(message.gradient) : 1;
          expectWithinError(again.gradient, message.gradient, message.dtype, scale);
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw new Error(`iteration ${iteration}: ${String(err)}`);
        outcome = err.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    for (const outcome of ['ok f16', 'ok bf16', 'non-finite', 'bad-frame']) {
      expect(outcomes.get(outcome) ?? 0, `${outcome}: ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
  });
});
