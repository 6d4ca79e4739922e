import type { BatchNormReducer, GradientReadiness } from '@flotilla/core';
import type { Timeline } from '@flotilla/protocol';
import { mergeSlots, sharedReadyFrom } from './bn-merge.js';
import { Control, slotWidth, type SharedState } from './shared-state.js';

/** How long a thread waits at a barrier before giving up (a lost sibling or process). */
const BARRIER_TIMEOUT_MS = 120_000;

export const Phase = { forward: 0, backward: 1 } as const;

/**
 * The thread side of SyncBN (DESIGN 6): a BatchNormReducer that writes this slot's
 * statistics into shared memory, arrives at the barrier and blocks (Atomics.wait: worker
 * threads may block) until the main thread has reduced every slot, across processes too,
 * and bumped the generation. Then it reads the global statistics back. In a solo step (this
 * process computes the whole batch) the last thread to arrive reduces and releases instead:
 * waking the main thread costs more than the reduction.
 */
export class ThreadBarrier {
  private readonly control: Int32Array;
  private readonly shard: Float64Array;
  private readonly shards: Float64Array;
  private readonly result: Float64Array;
  private readonly readyFrom: Int32Array;
  private readonly width: number;
  /** Milliseconds spent waiting at barriers since the last reset. */
  waitMs = 0;
  /** Set for each step: no other process takes part, so the threads reduce among themselves. */
  solo = false;
  /** Set for each step: where the waits go as spans (a disabled timeline keeps none). */
  timeline: Timeline | null = null;
  /**
   * `readiness` tracks the replica's backward pass; at backward barriers its readyFrom is
   * published for gradient parts (null: nothing is reported final before the end).
   */
  constructor(private readonly state: SharedState, private readonly slotIndex: number, private readonly readiness: GradientReadiness | null = null) {
    const width = slotWidth(state.maxChannels);
    this.width = width;
    this.control = new Int32Array(state.control);
    this.shard = new Float64Array(state.bnShards, 8 * slotIndex * width, width);
    this.shards = new Float64Array(state.bnShards);
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
    const last = Atomics.add(ctl, Control.arrived, 1) + 1 === this.state.threads;
    if (last && this.solo) {
      this.releaseSolo(phase, c);
    } else {
      if (last) Atomics.notify(ctl, Control.arrived);
      while (Atomics.load(ctl, Control.generation) === generation) {
        if (Atomics.load(ctl, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
        if (Atomics.wait(ctl, Control.generation, generation, BARRIER_TIMEOUT_MS) === 'timed-out') {
          throw new Error(`SyncBN barrier timed out after ${BARRIER_TIMEOUT_MS / 1000} s at layer ${layer}`);
        }
      }
    }
    if (Atomics.load(ctl, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
    this.waitMs += performance.now() - started;
    this.timeline?.span('SyncBN wait', started, this.slotIndex + 1, { layer, phase: phase === Phase.forward ? 'forward' : 'backward' });
    for (let j = 0; j < c; j++) { a[j] = this.result[1 + j]; b[j] = this.result[1 + c + j]; }
    return this.result[0];
  }

  /**
   * The last thread of a solo step at a barrier: every slot is written (the others counted
   * themselves in after writing), so it reduces them into the result as the main thread
   * would, releases the others, and at a backward barrier posts the suffix now final in every
   * slot for the main thread's gradient parts. Nobody reads the result until the release, and
   * nobody rewrites it before all have read it (that takes them all at the next barrier).
   */
  private releaseSolo(phase: number, c: number): void {
    const { state, control, result } = this;
    result[0] = mergeSlots(this.shards, this.width, state.threads, phase === Phase.forward, result.subarray(1, 1 + c), result.subarray(1 + c, 1 + 2 * c));
    // Read before the release, while every slot's word is this barrier's.
    const from = phase === Phase.backward ? sharedReadyFrom(this.readyFrom, state.threads) : -1;
    Atomics.store(control, Control.arrived, 0);
    Atomics.add(control, Control.generation, 1);
    Atomics.notify(control, Control.generation);
    if (from < 0) return;
    // Posted before this thread can reach the next barrier, so posts come in barrier order,
    // each no higher than the last.
    Atomics.store(control, Control.partFrom, from);
    Atomics.notify(control, Control.partFrom);
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
 * socket, stays live), reduces the slots, and releases the threads. In solo steps it only
 * follows the backward barriers' posts (nextPartFrom) for gradient parts.
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
    Atomics.store(this.control, Control.partFrom, this.state.paramCount);
    Atomics.store(this.control, Control.posts, 0);
    // Nothing is final yet: steps without barriers read these words between posts.
    for (let k = 0; k < this.state.threads; k++) Atomics.store(this.readyWords, k, this.state.paramCount);
  }

  /**
   * Resolves with the barrier once all threads are at it, or null when `done` settles first.
   * Throws once the step is aborted: a thread that reaches a barrier after the abort still
   * counts itself in before it sees the flag and throws, and taking that count for an arrival
   * would start a SyncBN round nobody answers (the connection is gone, or the coordinator
   * ignores the superseded attempt), leaving the worker stuck on that step for good.
   */
  nextArrival(done: Promise<unknown>): Promise<BarrierArrival | null> {
    return this.watch(Control.arrived, done, (arrived) => {
      if (arrived !== this.state.threads) return null;
      const layer = Atomics.load(this.control, Control.layer);
      return { layer, phase: Atomics.load(this.control, Control.phase), channels: this.channelsOf(layer) };
    });
  }

  /**
   * Solo steps, where the threads release their own barriers: resolves with where the
   * gradient suffix final in every slot starts once a backward barrier has moved it below
   * `seen`, or null when `done` settles first. Throws once the step is aborted.
   */
  nextPartFrom(done: Promise<unknown>, seen: number): Promise<number | null> {
    return this.watch(Control.partFrom, done, (from) => (from !== seen ? from : null));
  }

  /**
   * Steps without backward barriers, where threads post their progress (GradientPoster):
   * resolves with the post count once it has moved past `seen` (then readyFrom() says what is
   * final in every slot), or null when `done` settles first. Throws once the step is aborted.
   */
  nextPost(done: Promise<unknown>, seen: number): Promise<number | null> {
    return this.watch(Control.posts, done, (posts) => (posts !== seen ? posts : null));
  }

  /**
   * Watches control word `index` without blocking the event loop (Atomics.waitAsync): resolves
   * with what `check` makes of it once that is not null, with null once `done` has settled
   * and it still is, and throws once the step is aborted.
   */
  private async watch<T>(index: number, done: Promise<unknown>, check: (value: number) => T | null): Promise<T | null> {
    let settled = false;
    const finished = done.then(() => { settled = true; }, () => { settled = true; });
    for (;;) {
      if (Atomics.load(this.control, Control.abort) !== 0) throw new Error('SyncBN barrier abandoned: the step was aborted');
      const value = Atomics.load(this.control, index);
      const found = check(value);
      if (found !== null) return found;
      if (settled) return null;
      const waiting = Atomics.waitAsync(this.control, index, value);
      if (waiting.async) await Promise.race([waiting.value, finished]);
    }
  }

  /**
   * At a backward barrier: where the gradient suffix final in every slot starts (the
   * parameter count when nothing is).
   */
  readyFrom(): number {
    return sharedReadyFrom(this.readyWords, this.state.threads);
  }

  /** The slots merged (see mergeSlots) into a and b, of the layer's channel count; returns the count. */
  merge(phase: number, a: Float64Array, b: Float64Array): number {
    return mergeSlots(this.shards, this.width, this.state.threads, phase === Phase.forward, a, b);
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

  /** Abandons the step: every waiting thread throws instead of hanging, as do nextPartFrom and nextPost. */
  abort(): void {
    Atomics.store(this.control, Control.abort, 1);
    Atomics.add(this.control, Control.generation, 1);
    Atomics.notify(this.control, Control.generation);
    Atomics.notify(this.control, Control.partFrom);
    Atomics.notify(this.control, Control.posts);
  }
}
