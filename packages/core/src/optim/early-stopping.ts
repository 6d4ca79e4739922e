import { allocFloat, type DType, type FloatArray } from '../dtype.js';

/** EarlyStopping's counters as JSON (a checkpoint's state): `best` is null before any finite loss. */
export interface EarlyStoppingCounters {
  best: number | null;
  bestAt: number;
  checks: number;
  sinceBest: number;
}

export interface EarlyStoppingOptions {
  /** Checks without improvement tolerated before stopping (>= 1). */
  patience: number;
  /** A loss counts as an improvement only if it is below best − minDelta. Default 0. */
  minDelta?: number;
}

/**
 * Early stopping on validation loss, seed 002 §7.8.1.1: evaluate after each epoch (or any
 * fixed period), stop once the loss has stopped decreasing, and return the weights with the
 * lowest loss. "Stopped decreasing" is made robust to noise Keras-style: `patience`
 * consecutive checks without beating the best by more than `minDelta`. The best flat
 * parameter vector is copied into a buffer allocated once, here. A NaN loss never improves.
 */
export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  private readonly snapshot: FloatArray;
  private best = Infinity;
  private bestAt = -1;
  private checks = 0;
  private sinceBest = 0;

  constructor(size: number, options: EarlyStoppingOptions, dtype: DType = 'float32') {
    const { patience, minDelta = 0 } = options;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`Invalid EarlyStopping size: ${size}`);
    if (!Number.isInteger(patience) || patience < 1) {
      throw new RangeError(`Invalid patience: ${patience} (expected an integer >= 1)`);
    }
    if (!(minDelta >= 0 && minDelta < Infinity)) {
      throw new RangeError(`Invalid minDelta: ${minDelta} (expected a finite number >= 0)`);
    }
    this.patience = patience;
    this.minDelta = minDelta;
    this.snapshot = allocFloat(dtype, size);
  }

  /**
   * Records one validation loss for the current `params`; snapshots them if the loss is a new
   * best. Returns true when training should stop.
   */
  update(valLoss: number, params: FloatArray): boolean {
    if (params.length !== this.snapshot.length) {
      throw new RangeError(`EarlyStopping: params has ${params.length} elements, expected ${this.snapshot.length}`);
    }
    if (valLoss < this.best - this.minDelta) {
      this.best = valLoss;
      this.bestAt = this.checks;
      this.sinceBest = 0;
      this.snapshot.set(params);
    } else {
      this.sinceBest += 1;
    }
    this.checks += 1;
    return this.shouldStop;
  }

  get shouldStop(): boolean {
    return this.sinceBest >= this.patience;
  }

  /** Lowest validation loss recorded (Infinity before any). */
  get bestLoss(): number {
    return this.best;
  }

  /** Index (0-based count of `update` calls) of the best check, -1 before any improvement. */
  get bestCheck(): number {
    return this.bestAt;
  }

  get checksWithoutImprovement(): number {
    return this.sinceBest;
  }

  /** The best parameters seen so far: the snapshot buffer itself, not a copy; do not write. */
  get bestParams(): FloatArray {
    return this.snapshot;
  }

  /** The counters, for a checkpoint (the best parameters are `bestParams`). */
  state(): EarlyStoppingCounters {
    return { best: Number.isFinite(this.best) ? this.best : null, bestAt: this.bestAt, checks: this.checks, sinceBest: this.sinceBest };
  }

  /** Continues from a checkpoint's counters and best parameters, as if never interrupted. */
  loadState(counters: EarlyStoppingCounters, bestParams: FloatArray): void {
    const { best, bestAt, checks, sinceBest } = counters;
    const count = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
    if (!(best === null || Number.isFinite(best)) || !Number.isInteger(bestAt) || bestAt < -1 || !count(checks) || !count(sinceBest)
      || bestAt >= checks || (best === null) !== (bestAt < 0)) {
      throw new RangeError(`EarlyStopping.loadState: inconsistent counters ${JSON.stringify(counters)}`);
    }
    if (bestParams.length !== this.snapshot.length) {
      throw new RangeError(`EarlyStopping.loadState: best parameters have ${bestParams.length} elements, expected ${this.snapshot.length}`);
    }
    this.best = best ?? Infinity;
    this.bestAt = bestAt;
    this.checks = checks;
    this.sinceBest = sinceBest;
    this.snapshot.set(bestParams);
  }

  /** Copies the best parameters back into `params`. */
  restore(params: FloatArray): void {
    if (this.bestAt < 0) throw new Error('EarlyStopping.restore: no finite validation loss has been recorded yet');
    if (params.length !== this.snapshot.length) {
      throw new RangeError(`EarlyStopping.restore: params has ${params.length} elements, expected ${this.snapshot.length}`);
    }
    params.set(this.snapshot);
  }
}
