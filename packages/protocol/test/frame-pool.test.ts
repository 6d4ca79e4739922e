import { describe, expect, it } from 'vitest';
import { FramePool, decodeMessage, encodeMessage, type GradientMessage, type Message } from '../src/index.js';
import { expectSameMessage, floats32, sampleMessages } from './helpers.js';

/** Frames with every kind of padding: header padding, f16/bf16 gradients of odd length before float32 buffers. */
function messages(): Message[] {
  const timings = { computeMs: 1, bnWaitMs: 0, serializeMs: 0 };
  const gradient = (p: number, dtype?: 'f16' | 'bf16'): GradientMessage => ({
    type: 'gradient', step: 3, samples: 8, lossSum: 1.5, timings, gradient: floats32(p, p).map((v) => v % 1000),
    buffers: floats32(5, 50 + p), ...(dtype ? { dtype } : {}),
  });
  return [
    ...sampleMessages(),
    gradient(37, 'f16'), gradient(37, 'bf16'), gradient(1, 'f16'), gradient(40, 'bf16'), gradient(3),
    { type: 'params', step: 1, params: floats32(5000, 1), buffers: floats32(64, 2) },
  ];
}

describe('FramePool', () => {
  it('hands out frames of exactly the requested size', () => {
    const pool = new FramePool();
    for (const bytes of [0, 1, 100, 65535, 65536, 200_000]) {
      const frame = pool.alloc(bytes);
      expect(frame.length).toBe(bytes);
      expect(frame.byteOffset).toBe(0);
      expect(frame.buffer.byteLength).toBeGreaterThanOrEqual(bytes);
    }
  });

  it('reuses a released buffer for a frame of equal or smaller size', () => {
    const pool = new FramePool();
    const a = pool.alloc(5000);
    pool.release(a);
    const same = pool.alloc(5000);
    expect(same.buffer).toBe(a.buffer);
    pool.release(same);
    const smaller = pool.alloc(12);
    expect(smaller.buffer).toBe(a.buffer);
    expect(smaller.length).toBe(12);
  });

  it('does not hand out a released buffer too small for the frame', () => {
    const pool = new FramePool();
    const small = pool.alloc(100);
    pool.release(small);
    const big = pool.alloc(small.buffer.byteLength + 1);
    expect(big.buffer).not.toBe(small.buffer);
    expect(big.length).toBe(small.buffer.byteLength + 1);
    expect(pool.alloc(100).buffer).toBe(small.buffer); // still there for a frame it fits
  });

  it('never hands out a buffer twice before it is released', () => {
    const pool = new FramePool();
    const held = Array.from({ length: 20 }, (_, i) => pool.alloc(1000 * i));
    expect(new Set(held.map((f) => f.buffer)).size).toBe(20);
    pool.release(held[3]);
    pool.release(held[3]); // a double release must not put it in twice
    const next = [pool.alloc(10), pool.alloc(10), pool.alloc(10)];
    expect(next[0].buffer).toBe(held[3].buffer);
    const all = [...held.filter((_, i) => i !== 3), ...next].map((f) => f.buffer);
    expect(new Set(all).size).toBe(all.length);
  });

  it('keeps at most `keep` idle buffers', () => {
    const pool = new FramePool(2);
    const frames = [pool.alloc(10), pool.alloc(10), pool.alloc(10)];
    for (const frame of frames) pool.release(frame);
    const again = [pool.alloc(10), pool.alloc(10), pool.alloc(10)];
    const reused = again.filter((f) => frames.some((g) => g.buffer === f.buffer));
    expect(reused.length).toBe(2);
    expect(new Set(again.map((f) => f.buffer)).size).toBe(3);
  });

  it('frames encoded into recycled, dirty buffers are byte for byte fresh encodes', () => {
    const pool = new FramePool(1);
    const list = messages();
    let reusedCount = 0;
    let previous: ArrayBuffer | undefined;
    for (let round = 0; round < 3; round++) {
      // Largest first, so each later frame lands in the one recycled buffer.
      for (const message of [...list].sort((a, b) => encodeMessage(b).length - encodeMessage(a).length)) {
        const frame = encodeMessage(message, pool.alloc);
        if (frame.buffer === previous) reusedCount++;
        const fresh = encodeMessage(message);
        expect(Array.from(frame)).toEqual(Array.from(fresh));
        expectSameMessage(decodeMessage(frame), decodeMessage(fresh), expect);
        // Leave garbage everywhere (also past the frame) before handing the buffer back.
        new Uint8Array(frame.buffer).fill(0xa5 + round);
        pool.release(frame);
        previous = frame.buffer;
      }
    }
    expect(reusedCount).toBeGreaterThan(3 * list.length - 3);
  });

  it('releaseAfter returns a frame shared by N sockets only after the last of them has written it', () => {
    const pool = new FramePool();
    const frame = pool.alloc(1000);
    const written = pool.releaseAfter(frame, 3);
    written();
    written();
    expect(pool.alloc(1000).buffer).not.toBe(frame.buffer); // still being written
    written();
    expect(pool.alloc(1000).buffer).toBe(frame.buffer);
  });
});

describe('decodeMessage({ owned })', () => {
  const params = { type: 'params', step: 2, params: floats32(37, 1), buffers: floats32(6, 2) } as const;

  it('views an aligned owned frame in place, sharing its buffer', () => {
    const frame = encodeMessage(params);
    expect(frame.byteOffset).toBe(0);
    const decoded = decodeMessage(frame, { owned: true }) as typeof params;
    expect(decoded.params.buffer).toBe(frame.buffer);
    expect(decoded.buffers.buffer).toBe(frame.buffer);
    expect(Array.from(decoded.params)).toEqual(Array.from(params.params));
    expect(Array.from(decoded.buffers)).toEqual(Array.from(params.buffers));
    new Float32Array(frame.buffer, decoded.params.byteOffset, 1)[0] = 42;
    expect(decoded.params[0]).toBe(42); // the same memory
  });

  it('views an owned ArrayBuffer, and an owned 8-aligned float64 payload, in place', () => {
    const arrayBuffer = encodeMessage(params).buffer;
    expect((decodeMessage(arrayBuffer, { owned: true }) as typeof params).params.buffer).toBe(arrayBuffer);
    const bn = sampleMessages().find((m) => m.type === 'bn')!;
    const frame = encodeMessage(bn);
    expect((decodeMessage(frame, { owned: true }) as { values: Float64Array }).values.buffer).toBe(frame.buffer);
  });

  it('copies without owned', () => {
    const frame = encodeMessage(params);
    const decoded = decodeMessage(frame) as typeof params;
    expect(decoded.params.buffer).not.toBe(frame.buffer);
    expect(decoded.buffers.buffer).not.toBe(frame.buffer);
    frame.fill(0);
    expect(Array.from(decoded.params)).toEqual(Array.from(params.params));
    const fromArrayBuffer = encodeMessage(params).buffer;
    expect((decodeMessage(fromArrayBuffer) as typeof params).params.buffer).not.toBe(fromArrayBuffer);
  });

  it('copies an owned frame whose payload is not aligned to its width', () => {
    const frame = encodeMessage(params);
    for (const offset of [1, 2, 3]) {
      const memory = new Uint8Array(frame.length + offset);
      memory.set(frame, offset);
      const shifted = memory.subarray(offset);
      const decoded = decodeMessage(shifted, { owned: true }) as typeof params;
      expect(decoded.params.buffer).not.toBe(memory.buffer);
      expect(decoded.params.byteOffset % 4).toBe(0);
      expect(Array.from(decoded.params)).toEqual(Array.from(params.params));
    }
    // float64 needs 8: a 4-aligned bn payload is copied.
    const bn = sampleMessages().find((m) => m.type === 'bn')!;
    const bnFrame = encodeMessage(bn);
    const memory = new Uint8Array(bnFrame.length + 4);
    memory.set(bnFrame, 4);
    const values = (decodeMessage(memory.subarray(4), { owned: true }) as { values: Float64Array }).values;
    expect(values.buffer).not.toBe(memory.buffer);
    expect(Array.from(values)).toEqual(Array.from((bn as { values: Float64Array }).values));
  });

  it('converts a 16-bit gradient into a fresh array but views the owned float32 buffers in place', () => {
    const gradient: GradientMessage = {
      type: 'gradient', step: 1, samples: 1, lossSum: 0, timings: { computeMs: 0, bnWaitMs: 0, serializeMs: 0 },
      dtype: 'bf16', gradient: new Float32Array([1, 2, 3]), buffers: new Float32Array([4, 5]),
    };
    const frame = encodeMessage(gradient);
    const decoded = decodeMessage(frame, { owned: true }) as GradientMessage;
    expect(decoded.gradient.buffer).not.toBe(frame.buffer);
    expect(decoded.buffers.buffer).toBe(frame.buffer);
    expect(Array.from(decoded.gradient)).toEqual([1, 2, 3]);
    expect(Array.from(decoded.buffers)).toEqual([4, 5]);
  });

  it('fragments are joined into fresh memory that no fragment shares', () => {
    const frame = encodeMessage(params);
    const fragments = [frame.slice(0, 10), frame.slice(10, 77), frame.slice(77)];
    const decoded = decodeMessage(fragments) as typeof params;
    for (const fragment of fragments) expect(decoded.params.buffer).not.toBe(fragment.buffer);
    for (const fragment of fragments) fragment.fill(0);
    expect(Array.from(decoded.params)).toEqual(Array.from(params.params));
  });
});
