/**
 * The mini-batch plan. Epoch e visits the samples in the order
 * `CounterRng(seed).permutation(count, [RngPurpose.shuffle, e])`, which depends only on
 * (seed, epoch), never on how many workers or threads there are (DESIGN 5). Global batch b
 * covers positions [b * B, min((b + 1) * B, count)) of that order; the last batch may be
 * partial unless `dropLast`. A global batch is split among workers into contiguous ranges
 * of positions by `shardRanges`.
 */
import { CounterRng, RngPurpose } from '../rng.js';
import type { Dataset } from './dataset.js';

/** Positions [start, end) within a batch or an epoch's order. */
export interface IndexRange {
  start: number;
  end: number;
}

export interface BatchPlanOptions {
  seed: number;
  count: number;
  batchSize: number;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
}

/** The sample order of one epoch: a permutation of 0..count-1. */
export function epochOrder(seed: number, epoch: number, count: number): Int32Array {
  checkUint32('epoch', epoch);
  checkCount('count', count);
  return new CounterRng(seed).permutation(count, [RngPurpose.shuffle, epoch]);
}

export function batchesPerEpoch(count: number, batchSize: number, dropLast = false): number {
  checkCount('count', count);
  checkBatchSize(batchSize);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Positions of global batch `batch` within the epoch's order. */
export function batchRange(batch: number, count: number, batchSize: number, dropLast = false): IndexRange {
  const n = batchesPerEpoch(count, batchSize, dropLast);
  if (!Number.isInteger(batch) || batch < 0 || batch >= n) {
    throw new RangeError(`batch ${batch} out of range: an epoch has ${n} batches`);
  }
  return { start: batch * batchSize, end: Math.min((batch + 1) * batchSize, count) };
}

/**
 * Split `batchSize` positions into contiguous ranges, one per weight, of sizes proportional
 * to the weights (e.g. threads per worker). Boundaries are the rounded cumulative shares
 * round(batchSize * (w_0 + ... + w_k) / sum w), so sizes sum exactly to batchSize, each is
 * within 1 of its exact share, and a zero weight gets an empty range.
 */
export function shardRanges(batchSize: number, weights: readonly number[]): IndexRange[] {
  checkCount('batchSize', batchSize);
  if (weights.length === 0) throw new RangeError('shardRanges needs at least one weight');
  let total = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new RangeError(`Invalid shard weight: ${w} (expected a finite number >= 0)`);
    total += w;
  }
  if (total <= 0) throw new RangeError('shard weights sum to 0: nobody to give the batch to');
  const ranges: IndexRange[] = [];
  let cumulative = 0;
  let start = 0;
  for (let k = 0; k < weights.length; k++) {
    cumulative += weights[k];
    const end = k === weights.length - 1 ? batchSize : Math.min(batchSize, Math.round((batchSize * cumulative) / total));
    ranges.push({ start, end: Math.max(start, end) });
    start = Math.max(start, end);
  }
  return ranges;
}

/**
 * Copy the samples `indices` of `dataset` into the front of preallocated `inputs`
 * (indices.length * features floats) and `labels` (indices.length ints): one memcpy per
 * sample (a subarray view each, no new buffers).
 */
export function gatherBatch(
  dataset: Dataset,
  indices: ArrayLike<number>,
  inputs: Float32Array,
  labels: Int32Array,
): void {
  const n = indices.length;
  const features = dataset.count === 0 ? 0 : dataset.inputs.length / dataset.count;
  if (inputs.length < n * features || labels.length < n) {
    throw new RangeError(`gatherBatch: ${n} samples need ${n * features} inputs and ${n} labels, buffers hold ${inputs.length} and ${labels.length}`);
  }
  const src = dataset.inputs;
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    if (!(i >= 0 && i < dataset.count)) throw new RangeError(`gatherBatch: sample index ${i} out of range [0, ${dataset.count})`);
    inputs.set(src.subarray(i * features, (i + 1) * features), j * features);
    labels[j] = dataset.labels[i];
  }
}

/** The plan of a whole run: batches per epoch, and each batch's sample indices. */
export class BatchPlan {
  readonly seed: number;
  readonly count: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly batchesPerEpoch: number;
  private cachedEpoch = -1;
  private cachedOrder: Int32Array = new Int32Array(0);

  constructor(options: BatchPlanOptions) {
    this.seed = options.seed;
    this.count = options.count;
    this.batchSize = options.batchSize;
    this.dropLast = options.dropLast ?? false;
    this.batchesPerEpoch = batchesPerEpoch(this.count, this.batchSize, this.dropLast);
    new CounterRng(this.seed); // validates the seed now rather than at the first epoch
  }

  /** The epoch's order (computed once per epoch, then cached). */
  order(epoch: number): Int32Array {
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = epochOrder(this.seed, epoch, this.count);
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }

  /** Sample indices of global batch `batch` of `epoch`: a view into the epoch's order. */
  batch(epoch: number, batch: number): Int32Array {
    const { start, end } = batchRange(batch, this.count, this.batchSize, this.dropLast);
    return this.order(epoch).subarray(start, end);
  }
}

function checkUint32(what: string, x: number): void {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`Invalid ${what}: ${x} (expected an integer in [0, 2^32))`);
}

function checkCount(what: string, x: number): void {
  if (!Number.isInteger(x) || x < 0 || x > 0x7fffffff) throw new RangeError(`Invalid ${what}: ${x} (expected an integer in [0, 2^31))`);
}

function checkBatchSize(x: number): void {
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`Invalid batch size: ${x} (expected an integer >= 1)`);
}
