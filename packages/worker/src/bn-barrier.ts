import type { BatchNormReducer, GradientReadiness } from '@flotilla/core';
import { Control, slotWidth, type SharedState } from './shared-state.js';

/** How long a thread waits at a barrier before giving up (a lost sibling or process). */
const BARRIER_TIMEOUT_MS = 120_000;

export const Phase = { forward: 0, backward: 1 } as const;

/**
 * The thread side of SyncBN (DESIGN 6): a BatchNormReducer that writes this slot's
 * statistics into shared memory, arrives at the barrier and blocks (Atomics.wait: worker
 * threads may block) until the main thread has reduced every slot, across processes too,
 * and bumped the generation. Then it reads the global statistics back.
 */
export class ThreadBarrier {
  private readonly control: Int32Array;
  private readonly shard: Float64Array;
  private readonly result: Float64Array;
  private readonly readyFrom: Int32Array;
  /** Milliseconds spent waiting at barriers since the last reset. */
  waitMs = 0;
  /**
   * `readiness` tracks the replica's backward pass; at backward barriers its readyFrom is
   * published for gradient parts (null: nothing is reported final before the end).
   */
  constructor(private readonly state: SharedState, private readonly slotIndex: number, private readonly readiness: GradientReadiness | null = null) {
    const width = slotWidth(state.maxChannels);
    this.control = new Int32Array(state.control);
    this.shard = new Float64Array(state.bnShards, 8 * slotIndex * width, width);
    this.result = new Float64Array(state.bnResult);
    this.readyFrom = new Int32Array(state.readyFrom);
  }

  reducer(layer: number): BatchNormReducer {
    return {
      reduceStatistics: (count, mean, m2) => this.exchange(layer, Phase.forward, count, mean, m2),
      reduceGradients: (sumDy, sumDyXhat) => void this.exchange(layer, Phase.backward, 0, sumDy, sumDyXhat),
    };
  }

  /** Publishes (count, a, b), waits for the reduction, overwrites a and b; returns the count. */
  private exchange(layer: number, phase: number, count: number, a: Float64Array, b: Float64Array): number {
    const c = a.length;
    this.shard[0] = count;
    this.shard.set(a, 1);
    this.shard.set(b, 1 + c);
    if (phase === Phase.backward) Atomics.store(this.readyFrom, this.slotIndex, this.readiness?.readyFrom ?? this.state.paramCount);
    const ctl = this.control;
    // Not counted in after an abort (the host also refuses arrivals then, for the race
    // where the abort lands between this check and the count).
    if (Atomics.load(ctl, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
    const generation = Atomics.load(ctl, Control.generation);
    Atomics.store(ctl, Control.layer, layer);
    Atomics.store(ctl, Control.phase, phase);
    const started = performance.now();
    if (Atomics.add(ctl, Control.arrived, 1) + 1 === this.state.threads) Atomics.notify(ctl, Control.arrived);
    while (Atomics.load(ctl, Control.generation) === generation) {
      if (Atomics.load(ctl, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
      if (Atomics.wait(ctl, Control.generation, generation, BARRIER_TIMEOUT_MS) === 'timed-out') {
        throw new Error(`SyncBN barrier timed out after ${BARRIER_TIMEOUT_MS / 1000} s at layer ${layer}`);
      }
    }
    if (Atomics.load(ctl, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
    this.waitMs += performance.now() - started;
    for (let j = 0; j < c; j++) { a[j] = this.result[1 + j]; b[j] = this.result[1 + c + j]; }
    return this.result[0];
  }
}

/** What the main thread sees when every thread has arrived at a barrier. */
export interface BarrierArrival {
  layer: number;
  phase: number;
  channels: number;
}

/**
 * The main-thread side: awaits arrivals with Atomics.waitAsync (the event loop, and so the
 * socket, stays live), reduces the slots, and releases the threads.
 */
export class BarrierHost {
  private readonly control: Int32Array;
  private readonly shards: Float64Array;
  private readonly result: Float64Array;
  private readonly width: number;
  private readonly readyWords: Int32Array;

  constructor(private readonly state: SharedState, private readonly channelsOf: (layer: number) => number) {
    this.control = new Int32Array(state.control);
    this.readyWords = new Int32Array(state.readyFrom);
    this.shards = new Float64Array(state.bnShards);
    this.result = new Float64Array(state.bnResult);
    this.width = slotWidth(state.maxChannels);
  }

  reset(): void {
    Atomics.store(this.control, Control.arrived, 0);
    Atomics.store(this.control, Control.abort, 0);
  }

  /**
   * Resolves with the barrier once all threads are at it, or null when `done` settles first.
   * Throws once the step is aborted: a thread that reaches a barrier after the abort still
   * counts itself in before it sees the flag and throws, and taking that count for an arrival
   * would start a SyncBN round nobody answers (the connection is gone, or the coordinator
   * ignores the superseded attempt), leaving the worker stuck on that step for good.
   */
  async nextArrival(done: Promise<unknown>): Promise<BarrierArrival | null> {
    let settled = false;
    const finished = done.then(() => { settled = true; }, () => { settled = true; });
    for (;;) {
      if (Atomics.load(this.control, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
      const arrived = Atomics.load(this.control, Control.arrived);
      if (arrived === this.state.threads) {
        const layer = Atomics.load(this.control, Control.layer);
        return { layer, phase: Atomics.load(this.control, Control.phase), channels: this.channelsOf(layer) };
      }
      if (settled) return null;
      const waiting = Atomics.waitAsync(this.control, Control.arrived, arrived);
      if (waiting.async) await Promise.race([waiting.value, finished]);
    }
  }

  /**
   * At a backward barrier: where the gradient suffix final in every slot starts (the
   * parameter count when nothing is).
   */
  readyFrom(): number {
    let from = 0;
    for (let k = 0; k < this.state.threads; k++) from = Math.max(from, Atomics.load(this.readyWords, k));
    return from;
  }

  /** Slot k's (count, a, b) for a layer of `channels` channels. */
  shard(k: number, channels: number): { count: number; a: Float64Array; b: Float64Array } {
    const base = k * this.width;
    return {
      count: this.shards[base],
      a: this.shards.subarray(base + 1, base + 1 + channels),
      b: this.shards.subarray(base + 1 + channels, base + 1 + 2 * channels),
    };
  }

  /** Writes the reduced values and releases the waiting threads. */
  release(count: number, a: ArrayLike<number>, b: ArrayLike<number>): void {
    const c = a.length;
    this.result[0] = count;
    for (let j = 0; j < c; j++) { this.result[1 + j] = a[j]; this.result[1 + c + j] = b[j]; }
    Atomics.store(this.control, Control.arrived, 0);
    Atomics.add(this.control, Control.generation, 1);
    Atomics.notify(this.control, Control.generation);
  }

  /** Abandons the step: every waiting thread throws instead of hanging. */
  abort(): void {
    Atomics.store(this.control, Control.abort, 1);
    Atomics.add(this.control, Control.generation, 1);
    Atomics.notify(this.control, Control.generation);
  }
}
