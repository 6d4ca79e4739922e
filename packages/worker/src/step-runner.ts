import { mergeMoments, shardRanges } from '@flotilla/core';
import type { StepMessage } from '@flotilla/protocol';
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

/** The fields of a step message that say which rows to compute. */
export type StepAssignment = Pick<StepMessage, 'step' | 'epoch' | 'batchStart' | 'start' | 'end' | 'globalBatch' | 'members'>;

export interface StepOutcome {
  samples: number;
  loss: number;
  /** Σ over this worker's threads of their gradients (fixed slot order); valid until the next step. */
  grads: Float32Array;
  /** Running statistics averaged over the threads, weighted by their samples. */
  buffers: Float32Array;
  computeMs: number;
  bnWaitMs: number;
}

/**
 * Runs one step on a worker: splits its rows over the threads, runs one piscina task per
 * thread, serves their SyncBN barriers (merging slots with Chan's formula, then the
 * cross-process exchange), and sums the gradient slots.
 */
export class StepRunner {
  private readonly host: BarrierHost;
  private readonly grads: Float32Array;
  private readonly buffers: Float32Array;
  /** This worker computes the whole step: its merged statistics are already global. */
  private solo = false;

  constructor(
    private readonly pool: Piscina,
    private readonly shared: SharedState,
    private readonly base: Omit<StepTask, 'slot' | 'step' | 'epoch' | 'batchStart' | 'start' | 'end' | 'globalBatch'> & { config: ThreadRunConfig },
    channelsOf: (layer: number) => number,
    private readonly exchange: ExchangeFn,
  ) {
    this.host = new BarrierHost(shared, channelsOf);
    this.grads = new Float32Array(shared.paramCount);
    this.buffers = new Float32Array(shared.bufferCount);
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
    this.solo = a.members === 1;
    this.host.reset();
    const tasks = ranges.map((r, k) => this.pool.run({
      ...this.base, slot: k, step: a.step, epoch: a.epoch, batchStart: a.batchStart,
      start: a.start + r.start, end: a.start + r.end, globalBatch: a.globalBatch,
    } satisfies StepTask) as Promise<StepResult>);
    const all = Promise.all(tasks);
    try {
      for (;;) {
        const arrival = await this.host.nextArrival(all);
        if (arrival === null) break;
        await this.reduce(arrival.layer, arrival.phase, arrival.channels);
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

  private async reduce(layer: number, phase: number, channels: number): Promise<void> {
    const a = new Float64Array(channels);
    const b = new Float64Array(channels);
    let count = 0;
    for (let k = 0; k < this.shared.threads; k++) {
      const s = this.host.shard(k, channels);
      if (phase === Phase.forward) {
        count = mergeMoments(count, a, b, s.count, s.a, s.b);
      } else {
        for (let j = 0; j < channels; j++) { a[j] += s.a[j]; b[j] += s.b[j]; }
      }
    }
    const mine = { layer, phase: phase === Phase.forward ? 'forward' as const : 'backward' as const, count, a, b };
    const global = this.solo ? mine : await this.exchange(mine);
    if (global.a.length !== channels || global.b.length !== channels) {
      throw new Error(`SyncBN reply for layer ${layer} has ${global.a.length} channels, expected ${channels}`);
    }
    this.host.release(global.count, global.a, global.b);
  }

  private combine(results: StepResult[]): StepOutcome {
    const { shared, buffers } = this;
    let samples = 0, loss = 0, computeMs = 0, bnWaitMs = 0;
    for (const r of results) {
      samples += r.samples;
      loss += r.loss;
      computeMs = Math.max(computeMs, r.computeMs);
      bnWaitMs = Math.max(bnWaitMs, r.bnWaitMs);
    }
    // One thread: its slot is the sum (read before the next step reuses it, as the caller does).
    if (results.length === 1) {
      const only = results[0].slot;
      return { samples, loss, grads: slot(shared.grads, only, shared.paramCount), buffers: slot(shared.buffers, only, shared.bufferCount), computeMs, bnWaitMs };
    }
    const { grads } = this;
    grads.fill(0);
    buffers.fill(0);
    for (const r of results) {
      const g = slot(shared.grads, r.slot, shared.paramCount);
      for (let i = 0; i < g.length; i++) grads[i] += g[i];
      // Slots that saw no rows keep the published statistics; weight them out.
      const w = samples > 0 ? r.samples / samples : 1 / results.length;
      if (w === 0) continue;
      const b = slot(shared.buffers, r.slot, shared.bufferCount);
      for (let i = 0; i < b.length; i++) buffers[i] += w * b[i];
    }
    return { samples, loss, grads, buffers, computeMs, bnWaitMs };
  }
}
