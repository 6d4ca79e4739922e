import { kernels, shardRanges } from '@flotilla/core';
import { Timeline, type StepMessage } from '@flotilla/protocol';
import type { Piscina } from 'piscina';
import { BarrierHost, Phase } from './bn-barrier.js';
import { slot, type SharedState } from './shared-state.js';
import type { StepResult, StepTask, ThreadRunConfig } from './thread.js';

/** A BatchNorm all-reduce across processes: this worker's (count, a, b) in, the global ones out. */
export interface BatchNormExchange {
  layer: number;
  phase: 'forward' | 'backward';
  count: number;
  a: Float64Array;
  b: Float64Array;
}

export type ExchangeFn = (mine: BatchNormExchange) => Promise<BatchNormExchange>;

/**
 * Sends gradient values [offset, offset + values.length) of the step in progress as a part;
 * false when it could not (e.g. a non-finite value): the rest then goes in the gradient.
 */
export type SendPartFn = (offset: number, values: Float32Array) => boolean;

/** The fields of a step message that say which rows to compute. */
export type StepAssignment = Pick<StepMessage, 'step' | 'epoch' | 'batchStart' | 'start' | 'end' | 'globalBatch' | 'members'>;

export interface StepOutcome {
  samples: number;
  loss: number;
  /**
   * Σ over this worker's threads of their gradients (fixed slot order) for the parameters
   * not yet sent in parts, [0, grads.length); valid until the next step.
   */
  grads: Float32Array;
  /** Gradient parts sent during backward; they covered [grads.length, paramCount). */
  parts: number;
  /** Running statistics averaged over the threads, weighted by their samples. */
  buffers: Float32Array;
  computeMs: number;
  bnWaitMs: number;
}

/**
 * Runs one step on a worker: splits its rows over the threads, runs one piscina task per
 * thread, serves their SyncBN barriers (merging slots with Chan's formula, then the
 * cross-process exchange), and sums the gradient slots. At each backward barrier the end of
 * the gradient that every thread has finished goes out as a part once it reaches
 * the run's part size (`config.partFloats`), while the threads go on with the earlier layers. In a solo step there is
 * no exchange, so the threads release their own barriers (ThreadBarrier) and this side only
 * sends parts as the backward barriers post them. In a step without backward barriers
 * (per-shard BatchNorm, or no BatchNorm at all) the threads post their progress themselves
 * (GradientPoster), as DDP's buckets do.
 */
export class StepRunner {
  private readonly host: BarrierHost;
  private readonly grads: Float32Array;
  private readonly buffers: Float32Array;
  /** Gradient [sentFrom, paramCount) has gone out in `parts` parts this step. */
  private sentFrom = 0;
  private parts = 0;
  private partsOn = false;
  /** This process's spans, its threads' included, for the steps the run's timeline records (enabled per step). */
  readonly timeline = new Timeline(false);

  constructor(
    private readonly pool: Piscina,
    private readonly shared: SharedState,
    private readonly base: Omit<StepTask, 'slot' | 'step' | 'epoch' | 'batchStart' | 'start' | 'end' | 'globalBatch' | 'solo' | 'postParts' | 'trace'> & { config: ThreadRunConfig },
    channelsOf: (layer: number) => number,
    private readonly exchange: ExchangeFn,
    private readonly sendPart: SendPartFn,
    /** The step meets at backward SyncBN barriers (global SyncBN and a BatchNorm layer): parts go out there. */
    private readonly barriers: boolean,
  ) {
    this.host = new BarrierHost(shared, channelsOf);
    this.grads = new Float32Array(shared.paramCount);
    this.buffers = new Float32Array(shared.bufferCount);
  }

  /** Gradient parts the last (or current) step has sent. */
  get partsSent(): number {
    return this.parts;
  }

  /** Where those parts begin: the gradient message must carry [0, unsentFrom). */
  get unsentFrom(): number {
    return this.sentFrom;
  }

  /** Abandons the step in progress: threads at (or reaching) a SyncBN barrier throw. */
  abort(): void {
    this.host.abort();
  }

  /** Publishes parameters and buffers to every slot (threads read them in place). */
  publish(params: Float32Array, buffers: Float32Array): void {
    new Float32Array(this.shared.params).set(params);
    for (let k = 0; k < this.shared.threads; k++) slot(this.shared.buffers, k, this.shared.bufferCount).set(buffers);
  }

  async run(a: StepAssignment): Promise<StepOutcome> {
    const { shared } = this;
    const ranges = shardRanges(a.end - a.start, new Array(shared.threads).fill(1));
    // This worker computes the whole step: its merged statistics are already global.
    const solo = a.members === 1;
    this.sentFrom = shared.paramCount;
    this.parts = 0;
    this.partsOn = Number.isFinite(this.base.config.partFloats);
    const postParts = this.partsOn && !this.barriers;
    this.host.reset();
    const tasks = ranges.map((r, k) => this.pool.run({
      ...this.base, slot: k, step: a.step, epoch: a.epoch, batchStart: a.batchStart,
      start: a.start + r.start, end: a.start + r.end, globalBatch: a.globalBatch, solo, postParts, trace: this.timeline.enabled,
    } satisfies StepTask) as Promise<StepResult>);
    const all = Promise.all(tasks);
    try {
      if (postParts) {
        await this.sendPartsAsThreadsPost(all);
      } else if (solo) {
        await this.sendPartsAtSoloBarriers(all);
      } else {
        for (;;) {
          const arrival = await this.host.nextArrival(all);
          if (arrival === null) break;
          await this.reduce(arrival.layer, arrival.phase, arrival.channels);
        }
      }
    } catch (error) {
      this.host.abort();
      await Promise.allSettled(tasks);
      throw error;
    }
    let results: StepResult[];
    try {
      results = await all;
    } catch (error) {
      this.host.abort();
      await Promise.allSettled(tasks);
      throw error;
    }
    return this.combine(results);
  }

  /**
   * Solo steps: the threads post where the final gradient suffix starts at each backward
   * barrier and go on; this sends it as a part. It may wake late and skip a post: the latest
   * covers the earlier ones, and the threads only write below it from then on.
   */
  private async sendPartsAtSoloBarriers(all: Promise<unknown>): Promise<void> {
    let seen = this.shared.paramCount;
    while (this.partsOn) {
      const from = await this.host.nextPartFrom(all, seen);
      if (from === null) return;
      seen = from;
      this.sendReadyPart(from);
    }
  }

  /**
   * Steps without backward barriers: each thread posts its progress as backward goes on;
   * this sends what every slot has finished. Waking late only makes a part bigger.
   */
  private async sendPartsAsThreadsPost(all: Promise<unknown>): Promise<void> {
    let seen = 0;
    while (this.partsOn) {
      const posts = await this.host.nextPost(all, seen);
      if (posts === null) return;
      seen = posts;
      this.sendReadyPart(this.host.readyFrom());
    }
  }

  /** A barrier of a step shared with other processes: merge the slots, exchange, release. */
  private async reduce(layer: number, phase: number, channels: number): Promise<void> {
    const started = performance.now();
    const a = new Float64Array(channels);
    const b = new Float64Array(channels);
    const count = this.host.merge(phase, a, b);
    const mine = { layer, phase: phase === Phase.forward ? 'forward' as const : 'backward' as const, count, a, b };
    // The SyncBN contribution goes first: the part is summed and sent while the reply is on its way.
    const reply = this.exchange(mine);
    if (phase === Phase.backward) {
      try {
        this.sendReadyPart(this.host.readyFrom());
      } catch (error) {
        reply?.catch(() => { /* the step fails with the error above */ });
        throw error;
      }
    }
    const global = await reply;
    if (global.a.length !== channels || global.b.length !== channels) {
      throw new Error(`SyncBN reply for layer ${layer} has ${global.a.length} channels, expected ${channels}`);
    }
    this.host.release(global.count, global.a, global.b);
    this.timeline.span('SyncBN exchange', started, 0, { layer, phase: mine.phase });
  }

  /**
   * Sends gradient [from, sentFrom), which every thread has finished, if big enough. `from`
   * comes from a backward barrier every thread has reached; they only write below it since.
   */
  private sendReadyPart(from: number): void {
    if (!this.partsOn) return;
    if (this.sentFrom - from < this.base.config.partFloats) return;
    const started = performance.now();
    if (!this.sendPart(from, this.sumSlots(from, this.sentFrom))) {
      this.partsOn = false;
      return;
    }
    this.timeline.span('send gradient part', started, 0, { offset: from, floats: this.sentFrom - from });
    this.sentFrom = from;
    this.parts++;
  }

  /** Σ over the slots of gradient [lo, hi), in slot order (a view of slot 0 for one thread). */
  private sumSlots(lo: number, hi: number): Float32Array {
    const { shared, grads } = this;
    const slots = Array.from({ length: shared.threads }, (_, k) => slot(shared.grads, k, shared.paramCount).subarray(lo, hi));
    if (slots.length === 1) return slots[0];
    kernels.addN(slots, grads.subarray(lo, hi));
    return grads.subarray(lo, hi);
  }

  private combine(results: StepResult[]): StepOutcome {
    const { shared, buffers } = this;
    let samples = 0, loss = 0, computeMs = 0, bnWaitMs = 0;
    for (const r of results) {
      if (r.events) this.timeline.add(r.events);
      samples += r.samples;
      loss += r.loss;
      computeMs = Math.max(computeMs, r.computeMs);
      bnWaitMs = Math.max(bnWaitMs, r.bnWaitMs);
    }
    // Read before the next step reuses the slots, as the caller does.
    const grads = this.sumSlots(0, this.sentFrom);
    // One thread: its slot's statistics are the worker's.
    if (results.length === 1) return { samples, loss, grads, parts: this.parts, buffers: slot(shared.buffers, 0, shared.bufferCount), computeMs, bnWaitMs };
    buffers.fill(0);
    for (const r of results) {
      // Slots that saw no rows keep the published statistics; weight them out.
      const w = samples > 0 ? r.samples / samples : 1 / results.length;
      if (w === 0) continue;
      const b = slot(shared.buffers, r.slot, shared.bufferCount);
      for (let i = 0; i < b.length; i++) buffers[i] += w * b[i];
    }
    return { samples, loss, grads, parts: this.parts, buffers, computeMs, bnWaitMs };
  }
}
