import {
  batchesPerEpoch, createSchedule, buildModel, ModelEarlyStopping, encodeModelCheckpoint, evaluate,
  LocalTrainer, sliceDataset, takeFirst, type Dataset, type Evaluation, type StepReport,
} from '@flotilla/core';
import { createRunOptimizer, RunDir, scheduleConfig, writeFileAtomic, type RunConfig } from '@flotilla/coordinator';
import type { Splits } from '@flotilla/datasets';
import { ProgressBar } from '../run/progress.js';
import { checkModelFitsData } from './run-data.js';
import { ThreadGradients } from './thread-gradients.js';

export interface TrainSummary {
  test_accuracy: number;
  test_loss: number;
  samples_per_sec: number;
  steps: number;
  epochs: number;
  seconds: number;
  parameters: number;
  run_dir: string;
  checkpoint: string;
  /** Threads computing each batch's gradient. */
  threads: number;
  val_loss?: number;
  stopped_early?: boolean;
  skipped_steps: number;
}

/** After this many non-finite steps in a row the run stops, keeping its last good checkpoint. */
const MAX_CONSECUTIVE_SKIPS = 5;

/** Trains in this process: the `flotilla train --local` job; with `threads` > 1 each batch's gradient is computed by that many threads. */
export async function runLocalTraining(
  config: RunConfig,
  data: Splits,
  runDir: RunDir,
  log: (line: string) => void,
  threads = 1,
): Promise<TrainSummary> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`Invalid --threads: ${threads} (expected a positive integer)`);
  const all = takeFirst(data.train, config.trainLimit);
  if (config.val >= all.count) throw new Error(`--val ${config.val} leaves no training data (${all.count} samples)`);
  const train = sliceDataset(all, 0, all.count - config.val);
  // A data set's own validation split, unless --val carves one out of the training data.
  const val = config.val > 0 ? sliceDataset(all, all.count - config.val, all.count) : (data.val ? takeFirst(data.val, config.testLimit) : null);
  const test = takeFirst(data.test, config.testLimit);

  const model = buildModel(config.model, { seed: config.seed });
  checkModelFitsData(model, data, config.dataset);
  const optimizer = createRunOptimizer(config);
  const epochSteps = config.epochs * batchesPerEpoch(train.count, config.batch);
  const totalSteps = config.steps > 0 ? Math.min(config.steps, epochSteps) : epochSteps;
  const schedule = createSchedule(scheduleConfig(config, totalSteps), config.lr);
  const trainer = new LocalTrainer(model, optimizer, train, {
    batchSize: config.batch, seed: config.seed, schedule, smoothing: config.smoothing, clipNorm: config.clip, perturbSigma: config.perturb,
    maxSteps: totalSteps,
  });
  if (config.patience > 0 && !val) throw new Error('--patience needs a validation split: pass --val N or use a data set that has one');
  const stopper = config.patience > 0 ? new ModelEarlyStopping(model, config.patience) : null;
  runDir.writeJson('config.json', config);
  log(`Training ${model.parameterCount.toLocaleString('en')} parameters on ${train.count.toLocaleString('en')} samples for ${config.epochs} epochs` +
    `${threads > 1 ? ` on ${threads} threads` : ''} (run folder ${runDir.path})`);
  const pool = threads > 1 ? new ThreadGradients(model, config, train, threads) : null;
  try {
    const started = performance.now();
    let computeSeconds = 0, trained = 0, skippedSteps = 0, consecutiveSkips = 0, stoppedEarly = false;
    let lastCheckpoint = '';
    const save = (name: string, state: Record<string, unknown>): string => {
      const path = runDir.checkpointPath(name);
      writeFileAtomic(path, encodeModelCheckpoint(model, { ...state, optimizer: config.optimizer, seed: config.seed, dataset: config.dataset, ...(data.vocab ? { vocab: data.vocab } : {}) }));
      return path;
    };

    for (let epoch = 0; epoch < config.epochs && !trainer.finished; epoch++) {
      const bar = new ProgressBar(trainer.plan.batchesPerEpoch, `epoch ${epoch + 1}/${config.epochs}`);
      const epochStart = performance.now();
      const onStep = (r: StepReport): void => {
        const seconds = (r.computeMs + r.optimizerMs) / 1000;
        computeSeconds += seconds;
        trained += r.samples;
        if (r.skipped) {
          skippedSteps++;
          consecutiveSkips++;
          log(`warning: step ${r.step} skipped: non-finite loss or gradient (loss ${r.loss}, gradient norm ${r.gradNorm})`);
          if (consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) {
            throw new Error(`${consecutiveSkips} non-finite steps in a row at step ${r.step}; stopping. Last good checkpoint: ${lastCheckpoint || 'none yet'}`);
          }
        } else consecutiveSkips = 0;
        runDir.appendMetrics({
          kind: 'step', step: r.step, epoch: r.epoch, loss: r.loss, lr: r.lr, grad_norm: r.gradNorm, skipped: r.skipped,
          samples_per_sec: r.samples / seconds, compute_ms: r.computeMs, optimizer_ms: r.optimizerMs,
        });
        if (!r.skipped && config.checkpointEvery > 0 && (r.step + 1) % config.checkpointEvery === 0) {
          lastCheckpoint = save(`step-${r.step + 1}`, { epoch, step: r.step + 1 });
        }
        bar.update(r.batch + 1, `loss ${r.loss.toFixed(4)} · ${Math.round(trained / computeSeconds)} samples/s`);
      };
      const trainLoss = pool ? await trainer.trainEpochWith(epoch, pool.source, onStep) : trainer.trainEpoch(epoch, onStep);
      const evalStart = performance.now();
      const testEval = evaluate(model, test);
      const valEval: Evaluation | null = val ? evaluate(model, val) : null;
      const epochSeconds = (evalStart - epochStart) / 1000;
      lastCheckpoint = save(`epoch-${epoch + 1}`, { epoch: epoch + 1, step: trainer.step });
      runDir.appendMetrics({
        kind: 'epoch', epoch: epoch + 1, step: trainer.step, train_loss: trainLoss, test_loss: testEval.loss, test_accuracy: testEval.accuracy,
        ...(valEval ? { val_loss: valEval.loss, val_accuracy: valEval.accuracy } : {}),
        seconds: epochSeconds, eval_seconds: (performance.now() - evalStart) / 1000,
      });
      bar.finish();
      log(`epoch ${epoch + 1}/${config.epochs}: train loss ${trainLoss.toFixed(4)}, test loss ${testEval.loss.toFixed(4)}, test accuracy ${(100 * testEval.accuracy).toFixed(2)}%` +
        (valEval ? `, val loss ${valEval.loss.toFixed(4)}` : '') + ` (${epochSeconds.toFixed(1)} s)`);
      if (stopper && valEval) {
        if (stopper.update(valEval.loss)) {
          log(`early stopping: validation loss has not improved for ${config.patience} epochs; restoring the weights of epoch ${stopper.bestCheck + 1}`);
          stoppedEarly = true;
          break;
        }
      }
    }
    stopper?.restore();
    const final = evaluate(model, test);
    const checkpoint = save('final', { epoch: config.epochs, step: trainer.step, test_accuracy: final.accuracy });
    const summary: TrainSummary = {
      test_accuracy: final.accuracy,
      test_loss: final.loss,
      samples_per_sec: trained / computeSeconds,
      steps: trainer.step,
      epochs: config.epochs,
      seconds: (performance.now() - started) / 1000,
      parameters: model.parameterCount,
      run_dir: runDir.path,
      checkpoint,
      threads,
      skipped_steps: skippedSteps,
      ...(val ? { val_loss: evaluate(model, val).loss, stopped_early: stoppedEarly } : {}),
    };
    runDir.writeJson('summary.json', summary);
    return summary;
  } finally {
    await pool?.close();
  }
}
