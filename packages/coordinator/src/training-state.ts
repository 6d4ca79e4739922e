import {
  batchesPerEpoch, buildModel, clipGradNorm, recomputeBatchNormStatistics, createSchedule, encodeModelCheckpoint, evaluate, ExponentialMovingAverage, gradNorm,
  type Dataset, type Evaluation, type Model, type Optimizer, type Schedule,
} from '@flotilla/core';
import { createRunOptimizer, scheduleConfig, type RunConfig } from './run-config.js';

/** Where global batch `step` sits in the data. */
export interface BatchAssignment {
  step: number;
  epoch: number;
  batch: number;
  batchStart: number;
  globalBatch: number;
}

export interface AppliedStep {
  lr: number;
  gradNorm: number;
  /** The loss or gradient was not finite: parameters and optimizer state are untouched. */
  skipped: boolean;
}

/**
 * The coordinator's side of training: the one copy of the parameters, the optimizer and
 * its schedule, the EMA of the weights, and the batch plan. Workers send gradients; this
 * turns their sum into the next parameters.
 */
export class TrainingState {
  readonly model: Model;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly ema: ExponentialMovingAverage;
  readonly batchesPerEpoch: number;
  readonly totalSteps: number;
  step = 0;
  readonly grads: Float32Array;

  constructor(readonly config: RunConfig, readonly trainCount: number) {
    this.model = buildModel(config.model, { seed: config.seed });
    this.optimizer = createRunOptimizer(config);
    this.batchesPerEpoch = batchesPerEpoch(trainCount, config.batch);
    const epochSteps = config.epochs * this.batchesPerEpoch;
    this.totalSteps = config.steps > 0 ? Math.min(config.steps, epochSteps) : epochSteps;
    this.schedule = createSchedule(scheduleConfig(config, this.totalSteps), config.lr);
    this.ema = new ExponentialMovingAverage(this.model.params, config.emaDecay);
    this.grads = this.model.grads as Float32Array;
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  assignment(step = this.step): BatchAssignment {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    const batch = step % this.batchesPerEpoch;
    const batchStart = batch * this.config.batch;
    return { step, epoch, batch, batchStart, globalBatch: Math.min(this.config.batch, this.trainCount - batchStart) };
  }

  /** True when `step` (just finished) closes an epoch. */
  endsEpoch(step: number): boolean {
    return (step + 1) % this.batchesPerEpoch === 0;
  }

  /** Clip, optimizer step and EMA update from the summed gradient in `this.grads`. */
  apply(loss: number): AppliedStep {
    const { model, config } = this;
    const norm = config.clip > 0 ? clipGradNorm(this.grads, config.clip) : gradNorm(this.grads);
    const lr = this.schedule(this.step);
    const skipped = !Number.isFinite(loss) || !Number.isFinite(norm);
    if (!skipped) {
      this.optimizer.step(model.params, this.grads, lr);
      this.ema.update(model.params);
    }
    this.step++;
    return { lr, gradNorm: norm, skipped };
  }

  /**
   * Test-set evaluation of the live weights and of the EMA weights. The EMA weights never
   * produced the live BatchNorm statistics, so they get their own, recomputed over
   * `calibration` (a slice of the training data), as torch.optim.swa_utils.update_bn does.
   */
  evaluate(test: Dataset, calibration: Dataset): { live: Evaluation; ema: Evaluation } {
    const { model } = this;
    const live = evaluate(model, test);
    const savedParams = Float32Array.from(model.params);
    const savedBuffers = Float32Array.from(model.buffers);
    try {
      model.params.set(this.ema.values);
      recomputeBatchNormStatistics(model, calibration);
      return { live, ema: evaluate(model, test) };
    } finally {
      model.params.set(savedParams);
      model.buffers.set(savedBuffers);
    }
  }

  /** A checkpoint of the live weights, with the EMA weights beside them under `ema.`. */
  checkpoint(extraState: Record<string, unknown> = {}): Uint8Array {
    const { model } = this;
    return encodeModelCheckpoint(model, { step: this.step, epoch: Math.floor(this.step / this.batchesPerEpoch), ...extraState }, [
      { prefix: 'ema.', layout: model.paramLayout, data: this.ema.values as Float32Array },
    ]);
  }
}
