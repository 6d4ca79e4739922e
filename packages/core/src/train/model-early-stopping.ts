import type { Model } from '../model/model.js';
import type { FloatArray } from '../dtype.js';
import { EarlyStopping, type EarlyStoppingCounters } from '../optim/early-stopping.js';

/**
 * Early stopping on validation loss for a whole model (seed 002): the parameters through
 * EarlyStopping's snapshot, and the BatchNorm running statistics alongside, so restoring
 * gives back exactly the model that scored best.
 */
export class ModelEarlyStopping {
  private readonly stopper: EarlyStopping;
  private readonly bestBuffers: Float32Array;

  constructor(private readonly model: Model, patience: number, minDelta = 0) {
    this.stopper = new EarlyStopping(model.params.length, { patience, minDelta }, model.dtype);
    this.bestBuffers = new Float32Array(model.buffers.length);
  }

  /** Records a validation loss for the current weights; true when training should stop. */
  update(valLoss: number): boolean {
    const before = this.stopper.bestLoss;
    const stop = this.stopper.update(valLoss, this.model.params);
    if (this.stopper.bestLoss < before) this.bestBuffers.set(this.model.buffers);
    return stop;
  }

  /** Index (0-based) of the check that scored best, or -1 before any. */
  get bestCheck(): number {
    return this.stopper.bestCheck;
  }

  /** What a checkpoint needs to resume early stopping exactly: the counters and the best weights and statistics (views, not copies). */
  state(): { counters: EarlyStoppingCounters; params: FloatArray; buffers: Float32Array } {
    return { counters: this.stopper.state(), params: this.stopper.bestParams, buffers: this.bestBuffers };
  }

  /** Continues from a checkpoint's early-stopping state. */
  load(counters: EarlyStoppingCounters, params: FloatArray, buffers: Float32Array): void {
    if (buffers.length !== this.bestBuffers.length) {
      throw new RangeError(`ModelEarlyStopping.load: best buffers have ${buffers.length} elements, expected ${this.bestBuffers.length}`);
    }
    this.stopper.loadState(counters, params);
    this.bestBuffers.set(buffers);
  }

  /** Puts the best weights and statistics back; false when there were none. */
  restore(): boolean {
    if (this.stopper.bestCheck < 0) return false;
    this.model.params.set(this.stopper.bestParams);
    this.model.buffers.set(this.bestBuffers);
    return true;
  }
}
