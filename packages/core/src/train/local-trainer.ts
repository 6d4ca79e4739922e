import { Tensor } from '../autodiff/tensor.js';
import { BatchPlan, gatherBatch } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { perturbInputs } from '../data/perturb.js';
import type { Model } from '../model/model.js';
import { clipGradNorm, gradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedules.js';
import { CounterRng } from '../rng.js';
import { computeGradients } from './step.js';

/** performance.now where the platform has it (Node, browsers), else Date.now. */
function monotonicNow(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? perf.now() : Date.now();
}

export interface LocalTrainerOptions {
  batchSize: number;
  seed: number;
  /** Learning rate at each optimizer step (0-based). */
  schedule: Schedule;
  /** Label smoothing α. */
  smoothing?: number;
  /** Clip the global gradient norm to this value (0 or absent: no clipping). */
  clipNorm?: number;
  /** Std of Gaussian input perturbation during training (0 or absent: none). */
  perturbSigma?: number;
  /** Drop the last partial batch of each epoch. */
  dropLast?: boolean;
  /** Stop after this many optimizer steps in all (0 or absent: no limit). */
  maxSteps?: number;
  /** A clock in milliseconds (performance.now in Node and browsers). */
  now?: () => number;
}

/** What one optimizer step did, for progress and metrics.jsonl. */
export interface StepReport {
  step: number;
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  samples: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** True when the loss or gradient was not finite and the step was skipped (weights untouched). */
  skipped: boolean;
  computeMs: number;
  optimizerMs: number;
}

/** One batch to compute the gradient of: its step, epoch, position in the epoch's order and sample indices. */
export interface GradientRequest {
  step: number;
  epoch: number;
  batchStart: number;
  indices: Int32Array;
}

/** Fills the model's gradient for a batch and resolves with the batch's mean loss. */
export type GradientSource = (request: GradientRequest) => Promise<number>;

/** The mean training loss of an epoch's steps that were not skipped, weighted by their samples. */
class EpochLoss {
  private sum = 0;
  private samples = 0;

  add(report: StepReport): void {
    if (report.skipped) return;
    this.sum += report.loss * report.samples;
    this.samples += report.samples;
  }

  get mean(): number {
    return this.samples > 0 ? this.sum / this.samples : 0;
  }
}

/**
 * Single-process training: for each global batch of the epoch's seeded order, gather,
 * (perturb,) forward/backward, clip, optimizer step. The same BatchPlan, dropout keys and
 * loss normalisation as data-parallel training, so a distributed run computes the same model.
 */
export class LocalTrainer {
  step = 0;
  readonly plan: BatchPlan;
  private readonly inputs: Float32Array;
  private readonly labels: Int32Array;
  private readonly features: number;
  private readonly rng: CounterRng;
  private readonly now: () => number;

  constructor(
    readonly model: Model,
    readonly optimizer: Optimizer,
    readonly data: Dataset,
    readonly options: LocalTrainerOptions,
  ) {
    this.plan = new BatchPlan({ seed: options.seed, count: data.count, batchSize: options.batchSize, dropLast: options.dropLast });
    this.features = model.spec.input.reduce((a, b) => a * b, 1);
    this.inputs = new Float32Array(options.batchSize * this.features);
    this.labels = new Int32Array(options.batchSize);
    this.rng = new CounterRng(options.seed);
    this.now = options.now ?? monotonicNow;
  }

  /** True once `maxSteps` steps have been taken. */
  get finished(): boolean {
    return !!this.options.maxSteps && this.step >= this.options.maxSteps;
  }

  /** Runs one epoch (or what is left of `maxSteps`); `onStep` sees every step. Returns the epoch's mean training loss. */
  trainEpoch(epoch: number, onStep?: (report: StepReport) => void): number {
    const epochLoss = new EpochLoss();
    for (let b = 0; b < this.plan.batchesPerEpoch && !this.finished; b++) {
      const t0 = this.now();
      const indices = this.plan.batch(epoch, b);
      const loss = this.computeHere(epoch, indices);
      epochLoss.add(this.finishStep(epoch, b, indices.length, loss, t0, onStep));
    }
    return epochLoss.mean;
  }

  /**
   * The same epoch with the gradients computed elsewhere (threads of this process, say):
   * `source` fills the model's gradient (and BatchNorm buffers) for the batch and returns its
   * mean loss; clipping, the schedule, the optimizer step and skipping are as trainEpoch's.
   */
  async trainEpochWith(epoch: number, source: GradientSource, onStep?: (report: StepReport) => void): Promise<number> {
    const epochLoss = new EpochLoss();
    for (let b = 0; b < this.plan.batchesPerEpoch && !this.finished; b++) {
      const t0 = this.now();
      const indices = this.plan.batch(epoch, b);
      const loss = await source({ step: this.step, epoch, batchStart: b * this.plan.batchSize, indices });
      epochLoss.add(this.finishStep(epoch, b, indices.length, loss, t0, onStep));
    }
    return epochLoss.mean;
  }

  /** Gather, (perturb,) forward and backward in this thread; returns the batch's mean loss. */
  private computeHere(epoch: number, indices: Int32Array): number {
    const { model, options } = this;
    const n = indices.length;
    gatherBatch(this.data, indices, this.inputs, this.labels);
    if (options.perturbSigma) perturbInputs(this.inputs, indices, this.features, { rng: this.rng, epoch, sigma: options.perturbSigma });
    const x = new Tensor(this.inputs.subarray(0, n * this.features), model.batchShape(n));
    model.zeroGrad();
    return computeGradients(model, x, this.labels.subarray(0, n), { seed: options.seed, step: this.step, rowOffset: 0 }, {
      smoothing: options.smoothing ?? 0,
    });
  }

  /** Clip, schedule, optimizer step (or skip) once the gradient of batch `b` (`samples` rows) is in; reports it. */
  private finishStep(epoch: number, b: number, samples: number, loss: number, t0: number, onStep?: (report: StepReport) => void): StepReport {
    const { model, optimizer, options } = this;
    const t1 = this.now();
    // Clipping leaves a non-finite gradient alone; such a step is skipped below.
    const norm = options.clipNorm ? clipGradNorm(model.grads, options.clipNorm) : gradNorm(model.grads);
    const skipped = !Number.isFinite(loss) || !Number.isFinite(norm);
    const lr = options.schedule(this.step);
    if (!skipped) optimizer.step(model.params, model.grads, lr);
    const t2 = this.now();
    const report: StepReport = {
      step: this.step, epoch, batch: b, batchesPerEpoch: this.plan.batchesPerEpoch, samples,
      loss, lr, gradNorm: norm, skipped, computeMs: t1 - t0, optimizerMs: t2 - t1,
    };
    onStep?.(report);
    this.step++;
    return report;
  }
}
