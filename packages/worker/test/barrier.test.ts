import { Worker } from 'node:worker_threads';
import { channelMoments } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { BarrierHost, Phase } from '../src/bn-barrier.js';
import { Control, createSharedState } from '../src/shared-state.js';
import { arrivals } from './arrivals.js';

describe('SyncBN barrier across real threads', () => {
  it('threads with uneven and empty shards all receive the statistics of the whole batch', async () => {
    const threads = 3, c = 2;
    const rows = [5, 0, 3];
    const all = Float64Array.from({ length: 8 * c }, (_, i) => 10 + Math.sin(i) * (1 + (i % 4)));
    const data = { inputs: new Float32Array(4), inputShape: [1], labels: new Int32Array(4), count: 4, numClasses: 2 };
    const state = createSharedState(threads, 1, 1, c, data);
    const host = new BarrierHost(state, () => c);
    let offset = 0;
    const shards = rows.map((n, slot) => {
      const mean = new Float64Array(c), m2 = new Float64Array(c);
      channelMoments(all.subarray(offset * c, (offset + n) * c), n, c, mean, m2);
      offset += n;
      return { slot, count: n, mean: Array.from(mean), m2: Array.from(m2), sumDy: [slot + 1, 10 * (slot + 1)], sumDyXhat: [0.5 * slot, -slot] };
    });
    const workers = shards.map((s) => new Worker(new URL('./fixtures/barrier-thread.mjs', import.meta.url), { workerData: { state, ...s } }));
    const results = Promise.all(workers.map((w) => new Promise<Record<string, unknown>>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));

    // The main thread serves both barriers as a worker process's main thread does.
    const phases: number[] = [];
    for (;;) {
      const arrival = await host.nextArrival(results);
      if (arrival === null) break;
      phases.push(arrival.phase);
      expect(arrival.layer).toBe(7);
      const a = new Float64Array(c), b = new Float64Array(c);
      host.release(host.merge(arrival.phase, a, b), a, b);
    }
    expect(phases).toEqual([Phase.forward, Phase.backward]);
    const wholeMean = new Float64Array(c), wholeM2 = new Float64Array(c);
    channelMoments(all, 8, c, wholeMean, wholeM2);
    for (const r of await results) {
      expect(r.total).toBe(8);
      (r.mean as number[]).forEach((v, j) => expect(v).toBeCloseTo(wholeMean[j], 12));
      (r.m2 as number[]).forEach((v, j) => expect(v).toBeCloseTo(wholeM2[j], 10));
      expect(r.sumDy).toEqual([6, 60]);
      expect(r.sumDyXhat).toEqual([1.5, -3]);
    }
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('abort wakes a waiting thread with an error instead of leaving it hanging', async () => {
    const data = { inputs: new Float32Array(2), inputShape: [1], labels: new Int32Array(2), count: 2, numClasses: 2 };
    const state = createSharedState(2, 1, 1, 1, data);
    const host = new BarrierHost(state, () => 1);
    const w = new Worker(new URL('./fixtures/barrier-thread.mjs', import.meta.url), {
      workerData: { state, slot: 0, count: 1, mean: [1], m2: [0], sumDy: [0], sumDyXhat: [0] },
    });
    const failed = new Promise<Error>((resolve) => w.once('error', resolve));
    // Only one of two threads arrives; once it has counted itself in, abandon the step:
    // waiting or about to wait, it sees the flag and throws.
    expect(await arrivals(state, 1)).toBe(1);
    host.abort();
    expect((await failed).message).toMatch(/SyncBN barrier abandoned/);
    await w.terminate();
  });

  it('after an abort, a thread reaching the next barrier is not taken for an arrival (no SyncBN round nobody answers)', async () => {
    const data = { inputs: new Float32Array(2), inputShape: [1], labels: new Int32Array(2), count: 2, numClasses: 2 };
    const state = createSharedState(1, 1, 1, 1, data);
    const host = new BarrierHost(state, () => 1);
    const never = new Promise<void>(() => { /* the step's tasks, still running */ });
    const waiting = host.nextArrival(never);
    host.abort();
    // The race: the thread counts itself in (as one that passed its abort check just before
    // the abort does) and only then sees the flag.
    const control = new Int32Array(state.control);
    Atomics.add(control, Control.arrived, 1);
    Atomics.notify(control, Control.arrived);
    await expect(waiting).rejects.toThrow(/SyncBN barrier abandoned/);
    // And a thread that arrives after the abort throws before counting itself in.
    const w = new Worker(new URL('./fixtures/barrier-thread.mjs', import.meta.url), {
      workerData: { state, slot: 0, count: 1, mean: [1], m2: [0], sumDy: [0], sumDyXhat: [0] },
    });
    Atomics.store(control, Control.arrived, 0);
    expect((await new Promise<Error>((resolve) => w.once('error', resolve))).message).toMatch(/SyncBN barrier abandoned/);
    expect(Atomics.load(control, Control.arrived)).toBe(0);
    await w.terminate();
    // The next step's reset clears the abort.
    host.reset();
    expect(Atomics.load(control, Control.abort)).toBe(0);
  });
});
