import { mergeMoments } from '@flotilla/core';

/** One worker's contribution to a SyncBN all-reduce. */
export interface BatchNormShard {
  workerId: number;
  count: number;
  a: Float64Array;
  b: Float64Array;
}

/**
 * Collects one BatchNorm all-reduce (a layer, a phase, a step) from every worker of the
 * step and reduces it in worker-id order, so the result does not depend on arrival order:
 * forward merges (count, mean, M2) with Chan's formula, backward sums (Σdy, Σdy·x̂).
 */
export class BatchNormReduction {
  private readonly shards = new Map<number, BatchNormShard>();

  constructor(readonly phase: 'forward' | 'backward', readonly channels: number, private readonly expected: readonly number[]) {}

  /** Adds a shard; returns true once every expected worker has reported. */
  add(shard: BatchNormShard): boolean {
    if (!this.expected.includes(shard.workerId)) throw new Error(`worker ${shard.workerId} is not part of this step`);
    if (this.shards.has(shard.workerId)) throw new Error(`worker ${shard.workerId} sent this BatchNorm reduction twice`);
    if (shard.a.length !== this.channels || shard.b.length !== this.channels) {
      throw new Error(`worker ${shard.workerId} sent ${shard.a.length} channels, the layer has ${this.channels}`);
    }
    this.shards.set(shard.workerId, shard);
    return this.shards.size === this.expected.length;
  }

  result(): { count: number; a: Float64Array; b: Float64Array } {
    const a = new Float64Array(this.channels);
    const b = new Float64Array(this.channels);
    let count = 0;
    for (const id of [...this.expected].sort((x, y) => x - y)) {
      const s = this.shards.get(id);
      if (!s) throw new Error(`worker ${id} has not reported`);
      if (this.phase === 'forward') {
        count = mergeMoments(count, a, b, s.count, s.a, s.b);
      } else {
        for (let j = 0; j < this.channels; j++) { a[j] += s.a[j]; b[j] += s.b[j]; }
        count += s.count;
      }
    }
    return { count, a, b };
  }
}
