import { DEFAULT_MNIST_SPEC } from '@flotilla/core';
import { PROTOCOL_VERSION, type Message } from '../src/index.js';

/** mulberry32: a tiny seeded generator for test data and fuzzing. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Awkward but finite values: signed zeros, subnormals, extremes, ordinary numbers. */
export function floats32(n: number, seed: number): Float32Array {
  const rand = seeded(seed);
  const specials = [0, -0, 1.401298464324817e-45, -1.1754942106924411e-38, 3.4028234663852886e38, -1, 0.1];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = i < specials.length ? specials[i] : (rand() - 0.5) * 10 ** (rand() * 8 - 4);
  return out;
}

export function floats64(n: number, seed: number): Float64Array {
  const rand = seeded(seed);
  const specials = [0, -0, 5e-324, 1.7976931348623157e308, 1 / 3];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = i < specials.length ? specials[i] : (rand() - 0.5) * 10 ** (rand() * 30 - 15);
  return out;
}

/** `values` cut to bfloat16 precision (low 16 bits cleared), so a bf16 round trip is exact. */
export function bf16Exact(values: Float32Array): Float32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
  return values;
}

export const P = 37;
export const B = 6;

/** One valid message of every type. */
export function sampleMessages(): Message[] {
  return [
    { type: 'hello', version: PROTOCOL_VERSION, token: 's3cret', threads: 4, pid: 4242, host: 'node-1' },
    { type: 'hello', version: PROTOCOL_VERSION, token: '', threads: 1 },
    {
      type: 'welcome',
      workerId: 3,
      runId: 'run-2024-01-01',
      spec: DEFAULT_MNIST_SPEC,
      config: { seed: 2 ** 40 + 7, bnSync: 'global', smoothing: 0.1, perturb: 0, dataset: 'mnist', trainLimit: 0, gradDtype: 'f16' },
      step: 120,
      params: floats32(P, 1),
      buffers: floats32(B, 2),
    },
    // Since protocol 2 a step carries no payload: the params message for the same step precedes it.
    { type: 'step', step: 121, epoch: 2, batch: 7, start: 64, end: 128, batchStart: 7 * 256, globalBatch: 256, attempt: 1, members: 4, trace: true },
    { type: 'step', step: 0, epoch: 0, batch: 0, start: 5, end: 5, batchStart: 0, globalBatch: 5 },
    { type: 'params', step: 9, params: floats32(P, 5), buffers: floats32(B, 6) },
    { type: 'bn', step: 121, layer: 1, phase: 'forward', count: 64, values: floats64(2 * 3, 7) },
    { type: 'bn', step: 121, layer: 5, phase: 'backward', count: 0, values: floats64(2, 8) },
    {
      type: 'gradient', step: 121, samples: 64, lossSum: 147.25390625,
      timings: { computeMs: 12.5, bnWaitMs: 0.25, serializeMs: 0 },
      gradient: floats32(P, 9), buffers: floats32(B, 10),
    },
    // Since protocol 3 a gradient may come in parts: the end of it first, then the rest.
    { type: 'gradient-part', step: 121, attempt: 1, offset: 30, gradient: floats32(P - 30, 11) },
    { type: 'gradient-part', step: 121, attempt: 1, offset: 12, dtype: 'bf16', gradient: bf16Exact(floats32(18, 12)) },
    {
      type: 'gradient', step: 121, samples: 64, lossSum: 147.25390625, attempt: 1, parts: 2,
      // The process's CPU time since its previous gradient (optional since it was added).
      timings: { computeMs: 12.5, bnWaitMs: 0.25, serializeMs: 0, cpuMs: 31.75 },
      gradient: floats32(12, 13), buffers: floats32(B, 14),
    },
    // Since protocol 4 a worker of a run that records a timeline sends its spans after each gradient.
    {
      type: 'trace', step: 121, events: [
        { name: 'compute', tid: 1, ts: 1_700_000_000_123_456.5, dur: 9_870.25 },
        { name: 'SyncBN wait', tid: 2, ts: 1_700_000_000_125_000, dur: 410, args: { layer: 2, phase: 'forward' } },
      ],
    },
    { type: 'trace', step: 0, events: [] },
    { type: 'heartbeat', time: 1_700_000_000_123.5 },
    { type: 'error', code: 'bad-field', message: 'gradient: field "samples" must be an integer >= 0, got 1.5' },
    { type: 'bye', reason: 'training finished' },
  ];
}

/** The bytes of a typed array, for bit-exact comparison (distinguishes -0 from 0). */
export function bytesOf(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Compares two messages field by field, typed arrays bit-exactly. */
export function expectSameMessage(actual: Message, expected: Message, expectFn: (v: unknown) => { toEqual(x: unknown): void }): void {
  const a = actual as unknown as Record<string, unknown>;
  const e = expected as unknown as Record<string, unknown>;
  expectFn(Object.keys(a).sort()).toEqual(Object.keys(e).sort());
  for (const key of Object.keys(e)) {
    const value = e[key];
    if (ArrayBuffer.isView(value)) {
      expectFn(a[key]?.constructor).toEqual(value.constructor);
      expectFn(bytesOf(a[key] as ArrayBufferView)).toEqual(bytesOf(value));
    } else {
      expectFn(a[key]).toEqual(value);
    }
  }
}

/** Places `bytes` at byte offset `offset` of a larger buffer, as ws may deliver them. */
export function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const big = new Uint8Array(offset + bytes.length + 5).fill(0xee);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}
