import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES, PROTOCOL_VERSION, MAX_TRACE_EVENTS, ProtocolError, decodeMessage, encodeMessage,
  type Message, type ProtocolErrorCode, type WelcomeMessage,
} from '../src/index.js';
import { atOffset, floats32, sampleMessages } from './helpers.js';

const packr = new Packr({ useRecords: false });

/** A frame with exactly these header bytes and payload bytes, correctly padded. */
function frameOf(headerBytes: Uint8Array, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const start = Math.ceil((4 + headerBytes.length) / 8) * 8;
  const frame = new Uint8Array(start + payload.length);
  new DataView(frame.buffer).setUint32(0, headerBytes.length, true);
  frame.set(headerBytes, 4);
  frame.set(payload, start);
  return frame;
}

function f32Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return bytes;
}

function withHeader(header: unknown, payload?: Uint8Array): Uint8Array {
  return frameOf(packr.pack(header), payload);
}

function expectRejected(input: Parameters<typeof decodeMessage>[0], code: ProtocolErrorCode, message: string | RegExp): void {
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

const sample = (type: Message['type']) => sampleMessages().find((m) => m.type === type)!;

const gradientHeader = {
  type: 'gradient', step: 1, samples: 2, lossSum: 0.5,
  timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0 }, paramCount: 2, bufferCount: 1,
};
const validGradient = () => withHeader(gradientHeader, f32Bytes([1, 2, 3]));

describe('envelope (bad-frame)', () => {
  it('accepts the reference frame the cases below are derived from', () => {
    expect(decodeMessage(validGradient()).type).toBe('gradient');
  });

  it('rejects frames shorter than the length prefix', () => {
    for (const n of [0, 1, 3]) {
      expectRejected(new Uint8Array(n), 'bad-frame', `frame is ${n} bytes, shorter than the 4-byte header length`);
    }
  });

  it('rejects a header length running past the end', () => {
    const frame = validGradient();
    new DataView(frame.buffer).setUint32(0, frame.length, true);
    expectRejected(frame, 'bad-frame', `header length ${frame.length} runs past the end of the ${frame.length}-byte frame`);
  });

  it('rejects header lengths over the limit', () => {
    const frame = validGradient();
    new DataView(frame.buffer).setUint32(0, 0xffffffff, true);
    expectRejected(frame, 'bad-frame', `header length 4294967295 exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  });

  it('rejects a frame that ends inside the padding', () => {
    const header = packr.pack({ type: 'bye', reason: 'xyz' }); // 23 bytes: 4 + 23 = 27, payload at 32
    expect(header.length).toBe(23);
    const frame = frameOf(header).subarray(0, 28);
    expectRejected(frame, 'bad-frame', 'frame of 28 bytes ends inside the header padding (payload starts at 32)');
  });

  it('rejects non-zero padding', () => {
    const frame = frameOf(packr.pack({ type: 'bye', reason: 'xyz' }));
    expect(decodeMessage(frame)).toEqual({ type: 'bye', reason: 'xyz' });
    frame[29] = 7;
    expectRejected(frame, 'bad-frame', 'padding byte at offset 29 is 7, not 0');
  });

  it('rejects inputs that are not bytes', () => {
    expectRejected('hello' as never, 'bad-frame', /expected a Uint8Array, ArrayBuffer or array of Uint8Array, got "hello"/);
    expectRejected([new Uint8Array(4), 'x'] as never, 'bad-frame', /got an array of 2/);
  });
});

describe('header (bad-header, unknown-type)', () => {
  it('rejects an empty header', () => {
    expectRejected(new Uint8Array(8), 'bad-header', 'header length is 0');
  });

  it('rejects bytes that are not msgpack', () => {
    expectRejected(frameOf(new Uint8Array([0x82, 0xa1, 0x61])), 'bad-header', /^header is not one msgpack value: /);
  });

  it('rejects a header of two msgpack values', () => {
    const two = new Uint8Array([...packr.pack({ type: 'bye', reason: '' }), 0x01]);
    expectRejected(frameOf(two), 'bad-header', /^header is not one msgpack value: /);
  });

  it('rejects headers that are not maps', () => {
    expectRejected(withHeader(['bye', 'x']), 'bad-header', 'header is an array of 2, expected a msgpack map');
    expectRejected(withHeader(42), 'bad-header', 'header is 42, expected a msgpack map');
    expectRejected(withHeader(null), 'bad-header', 'header is null, expected a msgpack map');
    expectRejected(frameOf(new Uint8Array([0xc4, 1, 9])), 'bad-header', 'header is a Uint8Array, expected a msgpack map');
    expectRejected(frameOf(new Uint8Array([0xd6, 0xff, 0, 0, 0, 1])), 'bad-header', 'header is a Date, expected a msgpack map');
  });

  it('rejects a missing or non-string type', () => {
    expectRejected(withHeader({ reason: 'x' }), 'bad-header', 'header has no string "type" (got undefined)');
    expectRejected(withHeader({ type: 7 }), 'bad-header', 'header has no string "type" (got 7)');
  });

  it('rejects unknown types, including names inherited from Object.prototype', () => {
    expectRejected(withHeader({ type: 'gradients' }), 'unknown-type', 'unknown message type "gradients"');
    expectRejected(withHeader({ type: 'toString' }), 'unknown-type', 'unknown message type "toString"');
  });

  it('rejects deeply nested headers without overflowing', () => {
    const deep = new Uint8Array(100_000).fill(0x91);
    deep[deep.length - 1] = 0;
    expectRejected(frameOf(deep), 'bad-header', /^header is not one msgpack value: /);
  });
});

describe('hello version', () => {
  it('rejects another protocol version before anything else', () => {
    expect(PROTOCOL_VERSION).toBe(5);
    expectRejected(withHeader({ type: 'hello', version: 6, token: 't', threads: 1, future: true }), 'version',
      'hello: protocol version 6, this side speaks 5');
    // A protocol-4 coordinator would refuse timings.cpuMs mid-run, a protocol-3 worker sends
    // no trace messages (nor knows config.timeline), a protocol-2 worker no gradient parts, and
    // a protocol-1 worker step messages with payloads: all are turned away at hello.
    for (const old of [4, 3, 2, 1]) {
      expectRejected(withHeader({ type: 'hello', version: old, token: 't', threads: 1 }), 'version',
        `hello: protocol version ${old}, this side speaks 5`);
    }
    expectRejected(withHeader({ type: 'hello', version: '1', token: 't', threads: 1 }), 'bad-field',
      'hello: field "version" must be an integer >= 0, got "1"');
  });
});

describe('fields (bad-field)', () => {
  const hello = { type: 'hello', version: PROTOCOL_VERSION, token: 't', threads: 2 };
  const span = { name: 'compute', tid: 1, ts: 1e15, dur: 5 };
  const cases: [string, unknown, string][] = [
    ['missing field', { ...hello, threads: undefined }, 'hello: missing field "threads"'],
    ['unknown field', { ...hello, admin: true }, 'hello: unknown field "admin"'],
    ['inherited name as field', { ...hello, toString: 1 }, 'hello: unknown field "toString"'],
    ['__proto__ as field', JSON.parse(`{"type":"bye","reason":"x","__proto__":{"polluted":1}}`), 'bye: unknown field "__proto_"'],
    ['zero threads', { ...hello, threads: 0 }, 'hello: field "threads" must be an integer >= 1, got 0'],
    ['fractional threads', { ...hello, threads: 1.5 }, 'hello: field "threads" must be an integer >= 1, got 1.5'],
    ['token of bytes', { ...hello, token: new Uint8Array([1]) }, 'hello: field "token" must be a string, got a Uint8Array'],
    ['optional pid wrong', { ...hello, pid: -1 }, 'hello: field "pid" must be an integer >= 0, got -1'],
    ['huge integer', { type: 'params', step: 2n ** 64n - 1n, paramCount: 0, bufferCount: 0 },
      'params: field "step" must be an integer >= 0, got the bigint 18446744073709551615'],
    ['unsafe integer', { type: 'params', step: 2 ** 60, paramCount: 0, bufferCount: 0 },
      `params: field "step" must be an integer >= 0, got ${2 ** 60}`],
    ['NaN in header', { ...gradientHeader, lossSum: NaN }, 'gradient: field "lossSum" must be a finite number, got NaN'],
    ['negative timing', { ...gradientHeader, timings: { computeMs: -1, bnWaitMs: 0, serializeMs: 0 } },
      'gradient: field "timings.computeMs" must be a finite number >= 0, got -1'],
    ['negative CPU time', { ...gradientHeader, timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0, cpuMs: -0.5 } },
      'gradient: field "timings.cpuMs" must be a finite number >= 0, got -0.5'],
    ['unknown nested field', { ...gradientHeader, timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0, gpuMs: 1 } },
      'gradient: unknown field "timings.gpuMs"'],
    ['missing nested field', { ...gradientHeader, timings: { computeMs: 1, bnWaitMs: 0 } },
      'gradient: missing field "timings.serializeMs"'],
    ['timings not an object', { ...gradientHeader, timings: [1, 2, 3] },
      'gradient: field "timings" must be an object, got an array of 3'],
    ['bad phase', { type: 'bn', step: 0, layer: 0, phase: 'sideways', count: 1, channels: 1 },
      'bn: field "phase" must be one of "forward", "backward", got "sideways"'],
    ['zero channels', { type: 'bn', step: 0, layer: 0, phase: 'forward', count: 1, channels: 0 },
      'bn: field "channels" must be an integer >= 1, got 0'],
    ['shard past the batch', { type: 'step', step: 0, epoch: 0, batch: 0, start: 3, end: 9, batchStart: 0, globalBatch: 8 },
      'step: shard [3, 9) must satisfy start <= end <= globalBatch 8'],
    ['reversed shard', { type: 'step', step: 0, epoch: 0, batch: 0, start: 4, end: 3, batchStart: 0, globalBatch: 8 },
      'step: shard [4, 3) must satisfy start <= end <= globalBatch 8'],
    ['protocol-1 step with payload counts', { type: 'step', step: 0, epoch: 0, batch: 0, start: 0, end: 8, batchStart: 0, globalBatch: 8, paramCount: 0, bufferCount: 0 },
      'step: unknown field "paramCount"'],
    ['zero step members', { type: 'step', step: 0, epoch: 0, batch: 0, start: 0, end: 8, batchStart: 0, globalBatch: 8, members: 0 },
      'step: field "members" must be an integer >= 1, got 0'],
    ['step trace not a flag', { type: 'step', step: 0, epoch: 0, batch: 0, start: 0, end: 8, batchStart: 0, globalBatch: 8, trace: 1 },
      'step: field "trace" must be true or false, got 1'],
    ['empty error code', { type: 'error', code: '', message: 'm' }, 'error: field "code" must be a non-empty string, got ""'],
    ['heartbeat infinity', { type: 'heartbeat', time: Infinity }, 'heartbeat: field "time" must be a finite number, got Infinity'],
    ['trace events not an array', { type: 'trace', step: 1, events: { name: 'x' } }, 'trace: field "events" must be an array, got an object'],
    ['too many trace events', { type: 'trace', step: 1, events: Array.from({ length: MAX_TRACE_EVENTS + 1 }, () => span) },
      `trace: field "events" has ${MAX_TRACE_EVENTS + 1} events, over the limit of ${MAX_TRACE_EVENTS}`],
    ['negative span', { type: 'trace', step: 1, events: [span, { ...span, dur: -1 }] }, 'trace: field "events[1].dur" must be a finite number >= 0, got -1'],
    ['span on no thread', { type: 'trace', step: 1, events: [{ ...span, tid: 1.5 }] }, 'trace: field "events[0].tid" must be an integer in [0, 1024], got 1.5'],
    ['unnamed span', { type: 'trace', step: 1, events: [{ ...span, name: '' }] }, 'trace: field "events[0].name" must be a non-empty string, got ""'],
    ['long span name', { type: 'trace', step: 1, events: [{ ...span, name: 'x'.repeat(81) }] }, 'trace: field "events[0].name" is over 80 characters'],
    ['unknown span field', { type: 'trace', step: 1, events: [{ ...span, ph: 'B' }] }, 'trace: unknown field "events[0].ph"'],
    ['span args nested', { type: 'trace', step: 1, events: [{ ...span, args: { layer: { deep: 1 } } }] },
      'trace: field "events[0].args.layer" must be a finite number or a string of at most 80 characters, got an object'],
    ['span args NaN', { type: 'trace', step: 1, events: [{ ...span, args: { layer: NaN } }] },
      'trace: field "events[0].args.layer" must be a finite number or a string of at most 80 characters, got NaN'],
  ];
  for (const [name, header, message] of cases) {
    it(name, () => {
      // Drop undefined fields (msgpackr would encode them as an extension) to make them missing.
      const clean = Object.fromEntries(Object.entries(header as object).filter(([, v]) => v !== undefined));
      expectRejected(frameOf(packr.pack(clean)), 'bad-field', message);
    });
  }

  describe('welcome', () => {
    const welcome = sample('welcome');
    const good = encodeMessage(welcome);
    const headerOfGood = packr.unpack(good.subarray(4, 4 + new DataView(good.buffer).getUint32(0, true))) as Record<string, unknown>;
    const payload = good.subarray(Math.ceil((4 + new DataView(good.buffer).getUint32(0, true)) / 8) * 8);
    const config = headerOfGood.config as Record<string, unknown>;
    const variant = (patch: Record<string, unknown>) => frameOf(packr.pack({ ...headerOfGood, ...patch }), payload);

    it('accepts the unmodified header, with or without the optional config.gradDtype', () => {
      expect(decodeMessage(variant({})).type).toBe('welcome');
      expect(config.gradDtype).toBe('f16');
      const { gradDtype: _omit, ...plain } = config;
      expect((decodeMessage(variant({ config: plain })) as WelcomeMessage).config).toEqual(plain);
    });

    it.each([
      [{ config: { ...config, bnSync: 'sync' } }, 'welcome: field "config.bnSync" must be one of "global", "local", got "sync"'],
      [{ config: { ...config, smoothing: 1 } }, 'welcome: field "config.smoothing" must be a finite number in [0, 1), got 1'],
      [{ config: { ...config, perturb: -0.1 } }, 'welcome: field "config.perturb" must be a finite number >= 0, got -0.1'],
      [{ config: { ...config, seed: -1 } }, 'welcome: field "config.seed" must be an integer >= 0, got -1'],
      [{ config: { ...config, dataset: '' } }, 'welcome: field "config.dataset" must be a non-empty string, got ""'],
      [{ config: { ...config, lr: 0.1 } }, 'welcome: unknown field "config.lr"'],
      [{ config: { ...config, gradDtype: 'f8' } }, 'welcome: field "config.gradDtype" must be one of "f32", "f16", "bf16", got "f8"'],
      [{ runId: '' }, 'welcome: field "runId" must be a non-empty string, got ""'],
      [{ spec: { layers: [] } }, /^welcome: field "spec" is not a valid model spec: Model spec: "input" must be/],
      [{ spec: { input: [4], layers: [{ type: 'linear', w: new Uint8Array(3) }] } },
        'welcome: field "spec.layers[0].w" is a Uint8Array, not a JSON value'],
    ])('%j', (patch, message) => {
      expectRejected(variant(patch), 'bad-field', message);
    });
  });
});

describe('payload (bad-length)', () => {
  it('names both counts when the float count disagrees', () => {
    const header = { ...gradientHeader, paramCount: 535818, bufferCount: 1536 };
    expectRejected(withHeader(header, f32Bytes(new Array(1000).fill(0))), 'bad-length',
      'gradient: payload has 1000 floats, header says paramCount 535818 + bufferCount 1536');
  });

  it('rejects a payload that is not a whole number of floats', () => {
    expectRejected(withHeader(gradientHeader, new Uint8Array(13)), 'bad-length',
      'gradient: payload is 13 bytes, not a whole number of floats');
    const bn = { type: 'bn', step: 0, layer: 0, phase: 'forward', count: 1, channels: 1 };
    expectRejected(withHeader(bn, new Uint8Array(12)), 'bad-length', 'bn: payload is 12 bytes, not a whole number of float64 values');
  });

  it('checks bn payloads against 2 x channels float64 values', () => {
    const bn = { type: 'bn', step: 0, layer: 0, phase: 'backward', count: 1, channels: 3 };
    expectRejected(withHeader(bn, new Uint8Array(8 * 4)), 'bad-length', 'bn: payload has 4 float64 values, header says 2 x channels 3');
    expect(decodeMessage(withHeader(bn, new Uint8Array(8 * 6))).type).toBe('bn');
  });

  it('rejects a payload on messages that have none', () => {
    expectRejected(withHeader({ type: 'heartbeat', time: 1 }, new Uint8Array(8)), 'bad-length',
      'heartbeat: expects no payload, got 8 bytes');
    // Since protocol 2 a step's parameters come in the params message before it.
    const step = { type: 'step', step: 0, epoch: 0, batch: 0, start: 0, end: 8, batchStart: 0, globalBatch: 8 };
    expect(decodeMessage(withHeader(step))).toEqual(step);
    expectRejected(withHeader(step, f32Bytes([1, 2])), 'bad-length', 'step: expects no payload, got 8 bytes');
  });
});

describe('payload values (non-finite)', () => {
  function poke(message: Message, index: number, value: number, width: 4 | 8): Uint8Array {
    const frame = encodeMessage(message);
    const view = new DataView(frame.buffer);
    const start = Math.ceil((4 + view.getUint32(0, true)) / 8) * 8;
    if (width === 4) view.setFloat32(start + 4 * index, value, true);
    else view.setFloat64(start + 8 * index, value, true);
    return frame;
  }

  it('rejects NaN and infinities, naming the array and index', () => {
    const gradient = sample('gradient');
    expectRejected(poke(gradient, 17, NaN, 4), 'non-finite', 'gradient: gradient[17] is NaN');
    expectRejected(atOffset(poke(gradient, 37 + 2, Infinity, 4), 1), 'non-finite', 'gradient: buffers[2] is Infinity');
    expectRejected(poke(sample('params'), 0, -Infinity, 4), 'non-finite', 'params: params[0] is -Infinity');
    expectRejected(poke(sample('welcome'), 3, NaN, 4), 'non-finite', 'welcome: params[3] is NaN');
    expectRejected(poke(sample('params'), 36, NaN, 4), 'non-finite', 'params: params[36] is NaN');
    expectRejected(poke(sample('bn'), 5, -Infinity, 8), 'non-finite', 'bn: values[5] is -Infinity');
  });
});

describe('encoding refuses what decoding would', () => {
  const expectEncodeError = (message: unknown, code: ProtocolErrorCode, text: string) => {
    expect(() => encodeMessage(message as Message)).toThrow(text);
    try {
      encodeMessage(message as Message);
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(code);
    }
  };

  it('rejects unknown types, wrong array types and bad fields', () => {
    expectEncodeError({ type: 'nope' }, 'unknown-type', 'cannot encode a message of type "nope"');
    expectEncodeError(null, 'unknown-type', 'cannot encode a message of type undefined');
    expectEncodeError({ type: 'params', step: 1, params: new Float64Array(2), buffers: new Float32Array(0) }, 'bad-field',
      'params: field "params" must be a Float32Array, got a Float64Array');
    expectEncodeError({ type: 'bn', step: 1, layer: 0, phase: 'forward', count: 1, values: new Float32Array(2) }, 'bad-field',
      'bn: field "values" must be a Float64Array, got a Float32Array');
    expectEncodeError({ type: 'bn', step: 1, layer: 0, phase: 'forward', count: 1, values: new Float64Array(3) }, 'bad-length',
      'bn: "values" has 3 values, not a multiple of 2');
    expectEncodeError({ type: 'hello', version: 99, token: '', threads: 1 }, 'version', 'hello: protocol version 99, this side speaks 5');
    expectEncodeError({ type: 'hello', version: 2, token: '', threads: 1 }, 'version', 'hello: protocol version 2, this side speaks 5');
    expectEncodeError({ type: 'heartbeat' }, 'bad-field', 'heartbeat: missing field "time"');
    const spec = { input: [3], layers: [{ type: 'linear', out: 2, init: new Float32Array([1, 2]) }] };
    expectEncodeError({ ...sample('welcome'), spec }, 'bad-field',
      'welcome: field "spec.layers[0].init" is a Float32Array, not a JSON value');
  });

  it('rejects non-finite payload values at the source', () => {
    const gradient = floats32(4, 1);
    gradient[2] = NaN;
    expectEncodeError({ ...sample('gradient'), gradient }, 'non-finite', 'gradient: gradient[2] is NaN');
  });

  it('rejects headers over the size limit', () => {
    // map16 (msgpackr writes maps without records so), "type", "bye", "reason", a str32
    // prefix: 24 bytes beside the text.
    expectEncodeError({ type: 'bye', reason: 'x'.repeat(MAX_HEADER_BYTES) }, 'bad-header',
      `bye: header is ${MAX_HEADER_BYTES + 24} bytes, over the limit of ${MAX_HEADER_BYTES}`);
  });
});
