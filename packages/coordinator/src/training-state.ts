import {
  batchesPerEpoch, buildModel, clipGradNorm, decodeCheckpoint, loadCheckpointInto, modelTensors, recomputeBatchNormStatistics, type Hyper, createSchedule, encodeModelCheckpoint, evaluate, ExponentialMovingAverage, gradNorm,
  type Dataset, type EarlyStoppingCounters, type Evaluation, type FlatTensors, type Model, type ModelEarlyStopping, type Optimizer, type Schedule,
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
  /** Early-stopping state read by `restore`, for the run loop's stopper to continue from. */
  restoredEarlyStopping: { counters: EarlyStoppingCounters; params: Float32Array; buffers: Float32Array } | null = null;
  private emaPending = false;

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

  /**
   * Folds the latest parameters into the EMA if a step has changed them since. Deferred from
   * `apply` so the coordinator can first send those parameters to the workers and update the
   * EMA while they compute (it is off the critical path); evaluate and checkpoint flush it.
   */
  flushEma(): void {
    if (!this.emaPending) return;
    this.ema.update(this.model.params);
    this.emaPending = false;
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
      this.emaPending = true; // see flushEma
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
    this.flushEma();
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

  /**
   * A checkpoint of the live weights, with the EMA weights beside them under `ema.` and the
   * optimizer's buffers under `optimizer.<buffer>.` (e.g. `optimizer.exp_avg.0.weight`), so
   * the model's own names still load into PyTorch and a resumed run continues exactly.
   */
  checkpoint(extraState: Record<string, unknown> = {}, stopper: ModelEarlyStopping | null = null): Uint8Array {
    this.flushEma();
    const { model } = this;
    const { kind, step, hyper, buffers } = this.optimizer.state();
    const optimizerGroups = Object.entries(buffers).map(([name, data]) => ({ prefix: `optimizer.${name}.`, layout: model.paramLayout, data: data as Float32Array }));
    const early = stopper?.state();
    return encodeModelCheckpoint(model, {
      step: this.step, epoch: Math.floor(this.step / this.batchesPerEpoch), optimizer: { kind, step, hyper, buffers: Object.keys(buffers) },
      ...(early ? { earlyStopping: early.counters } : {}), ...extraState,
    }, [
      { prefix: 'ema.', layout: model.paramLayout, data: this.ema.values as Float32Array }, ...optimizerGroups,
      ...(early ? this.earlyStoppingGroups(early.params as Float32Array, early.buffers) : []),
    ]);
  }

  /** Where a checkpoint keeps early stopping's best weights and BatchNorm statistics. */
  private earlyStoppingGroups(params: Float32Array, buffers: Float32Array): FlatTensors[] {
    return [
      { prefix: 'early_stopping.', layout: this.model.paramLayout, data: params },
      { prefix: 'early_stopping.', layout: this.model.bufferLayout, data: buffers },
    ];
  }

  /** Restores weights, BatchNorm statistics, EMA, optimizer state and step from a checkpoint of this run. */
  restore(bytes: Uint8Array): Record<string, unknown> {
    const { model } = this;
    const checkpoint = decodeCheckpoint(bytes);
    const state = checkpoint.state as { step?: unknown; optimizer?: { kind: string; step: number; hyper: Hyper; buffers: string[] }; earlyStopping?: EarlyStoppingCounters } | null;
    if (!state || !Number.isInteger(state.step) || !state.optimizer) throw new Error('the checkpoint has no training state to resume from');
    if (JSON.stringify(checkpoint.spec) !== JSON.stringify(model.spec)) throw new Error('the checkpoint is of a different model than the run config');
    const optimizerBuffers: Record<string, Float32Array> = {};
    for (const name of state.optimizer.buffers) optimizerBuffers[name] = new Float32Array(model.params.length);
    const early = state.earlyStopping ? { counters: state.earlyStopping, params: new Float32Array(model.params.length), buffers: new Float32Array(model.buffers.length) } : null;
    loadCheckpointInto(checkpoint, {
      ...modelTensors(model),
      extra: [
        { prefix: 'ema.', layout: model.paramLayout, data: this.ema.values as Float32Array },
        ...Object.entries(optimizerBuffers).map(([name, data]) => ({ prefix: `optimizer.${name}.`, layout: model.paramLayout, data })),
        ...(early ? this.earlyStoppingGroups(early.params, early.buffers) : []),
      ],
    });
    this.restoredEarlyStopping = early;
    this.optimizer.loadState({ kind: state.optimizer.kind, step: state.optimizer.step, hyper: state.optimizer.hyper, buffers: optimizerBuffers });
    this.step = state.step as number;
    return state as Record<string, unknown>;
  }
}
