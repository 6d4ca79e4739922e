import { Worker } from 'node:worker_threads';
import { channelMoments, mergeMoments } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { BarrierHost } from '../src/bn-barrier.js';
import { Control, createSharedState } from '../src/shared-state.js';
import { arrivals } from './arrivals.js';

const fixture = new URL('./fixtures/barrier-thread.mjs', import.meta.url);
const tiny = { inputs: new Float32Array(2), inputShape: [1], labels: new Int32Array(2), count: 2, numClasses: 2 };

function start(workerData: Record<string, unknown>): { worker: Worker; result: Promise<Record<string, unknown>> } {
  const worker = new Worker(fixture, { workerData });
  const result = new Promise<Record<string, unknown>>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  return { worker, result };
}

describe('solo SyncBN barrier: the last thread to arrive reduces and releases, real threads', () => {
  it('with nobody on the main thread serving, threads with uneven and empty shards get the main thread\'s reduction bit for bit', async () => {
    const threads = 3, c = 2;
    const rows = [5, 0, 3];
    const all = Float64Array.from({ length: 8 * c }, (_, i) => 10 + Math.sin(i) * (1 + (i % 4)));
    const state = createSharedState(threads, 1, 1, c, tiny);
    new BarrierHost(state, () => c).reset();
    // reset() leaves partFrom at the parameter count, 1, which the threads post too: start it
    // elsewhere so the assertion below sees their post.
    Atomics.store(new Int32Array(state.control), Control.partFrom, 99);
    let offset = 0;
    const shards = rows.map((n, slot) => {
      const mean = new Float64Array(c), m2 = new Float64Array(c);
      channelMoments(all.subarray(offset * c, (offset + n) * c), n, c, mean, m2);
      offset += n;
      return { slot, count: n, mean, m2, sumDy: [0.1 * (slot + 1), 10 * (slot + 1)], sumDyXhat: [0.3 * slot, -slot / 7] };
    });
    const started = shards.map((s) => start({ state, solo: true, ...s, mean: Array.from(s.mean), m2: Array.from(s.m2) }));
    const results = await Promise.all(started.map((s) => s.result));
    // What the main thread computes: slots folded in order with Chan's formula, then sums.
    const mean = new Float64Array(c), m2 = new Float64Array(c);
    let total = 0;
    for (const s of shards) total = mergeMoments(total, mean, m2, s.count, s.mean, s.m2);
    const sumDy = [0, 0], sumDyXhat = [0, 0];
    for (const s of shards) for (let j = 0; j < c; j++) { sumDy[j] += s.sumDy[j]; sumDyXhat[j] += s.sumDyXhat[j]; }
    for (const r of results) {
      expect(r).toEqual({ total, mean: Array.from(mean), m2: Array.from(m2), sumDy, sumDyXhat });
    }
    const control = new Int32Array(state.control);
    expect(Atomics.load(control, Control.arrived)).toBe(0);
    expect(Atomics.load(control, Control.generation)).toBe(2);
    // The backward barrier posted its ready-from (these threads report nothing final: P = 1).
    expect(Atomics.load(control, Control.partFrom)).toBe(1);
    await Promise.all(started.map((s) => s.worker.terminate()));
  });

  it('abort wakes a thread waiting for a sibling with an error instead of leaving it hanging', async () => {
    const state = createSharedState(2, 1, 1, 1, tiny);
    const host = new BarrierHost(state, () => 1);
    host.reset();
    const { worker, result } = start({ state, solo: true, slot: 0, count: 1, mean: [1], m2: [0], sumDy: [0], sumDyXhat: [0] });
    result.catch(() => { /* awaited below through the error event */ });
    const failed = new Promise<Error>((resolve) => worker.once('error', resolve));
    // Only one of two threads arrives; once it has counted itself in, abandon the step:
    // waiting or about to wait, it sees the flag and throws.
    expect(await arrivals(state, 1)).toBe(1);
    host.abort();
    expect((await failed).message).toMatch(/SyncBN barrier abandoned/);
    await worker.terminate();
  }, 10_000);

  it('the main thread hears of each backward barrier\'s post, and of an abort, without serving the barrier', async () => {
    const state = createSharedState(1, 100, 1, 1, tiny);
    const host = new BarrierHost(state, () => 1);
    host.reset();
    const control = new Int32Array(state.control);
    const never = new Promise<void>(() => { /* the step's tasks, still running */ });
    const first = host.nextPartFrom(never, 100);
    Atomics.store(control, Control.partFrom, 60);
    Atomics.notify(control, Control.partFrom);
    expect(await first).toBe(60);
    // A post the main thread was too late to wait for is still seen once the step is done.
    Atomics.store(control, Control.partFrom, 20);
    expect(await host.nextPartFrom(Promise.resolve(), 60)).toBe(20);
    expect(await host.nextPartFrom(Promise.resolve(), 20)).toBeNull();
    // An abort wakes a main thread waiting for the next post.
    const waiting = host.nextPartFrom(never, 20);
    host.abort();
    await expect(waiting).rejects.toThrow(/SyncBN barrier abandoned/);
  });
});
