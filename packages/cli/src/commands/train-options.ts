import { readConfigFile, resolveRunConfig, type RunConfig } from '@flotilla/coordinator';
import { join } from 'node:path';
import type { Argv } from 'yargs';

/** The options of a training run, shared by `train` and `coordinator`. */
export interface TrainOptionArgs {
  config?: string;
  data?: string;
  epochs?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  optimizer?: string;
  momentum?: number;
  'weight-decay'?: number;
  seed?: number;
  smoothing?: number;
  clip?: number;
  perturb?: number;
  schedule?: string;
  warmup?: number;
  'train-limit'?: number;
  'test-limit'?: number;
  val?: number;
  patience?: number;
  'bn-sync'?: string;
  'ema-decay'?: number;
  'checkpoint-every'?: number;
  cycles?: number;
  'grad-dtype'?: string;
  'bucket-mb'?: number;
  'heartbeat-timeout'?: number;
  out?: string;
  json?: boolean;
}

export function withTrainOptions<T>(y: Argv<T>): Argv<T & TrainOptionArgs> {
  return y
    .option('config', { type: 'string', describe: 'Model spec or run config (JSON)' })
    .option('data', { type: 'string', describe: 'Data set: mnist, names, words, csv:PATH#LABEL_COLUMN or lines:PATH [default: mnist]' })
    .option('epochs', { type: 'number', describe: 'Passes over the training data [default: 5]' })
    .option('steps', { type: 'number', describe: 'Stop after this many optimizer steps [default: all epochs]' })
    .option('batch', { type: 'number', describe: 'Global mini-batch size, split over all threads of all workers [default: 256]; with bench scaling --weak and bench predict --weak, the rows of each thread' })
    .option('lr', { type: 'number', describe: 'Learning rate [default: 0.001]' })
    .option('optimizer', { type: 'string', describe: 'sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw [default: adam]' })
    .option('momentum', { type: 'number', describe: 'Momentum μ for --optimizer momentum or nesterov [default: 0.9]' })
    .option('weight-decay', { type: 'number', describe: 'L2 weight decay (decoupled for adamw) [default: 0]' })
    .option('seed', { type: 'number', describe: 'Seed of initialisation, data order and dropout [default: 0]' })
    .option('smoothing', { type: 'number', describe: 'Label smoothing α [default: 0]' })
    .option('clip', { type: 'number', describe: 'Clip the global gradient norm to this value [default: off]' })
    .option('perturb', { type: 'number', describe: 'Std of Gaussian input noise during training [default: 0]' })
    .option('schedule', { type: 'string', describe: 'constant, cosine, step, exponential, inverse-time [default: constant]' })
    .option('warmup', { type: 'number', describe: 'Linear warm-up steps (cosine schedule) [default: 0]' })
    .option('train-limit', { type: 'number', describe: 'Use only the first N training samples [default: all]' })
    .option('test-limit', { type: 'number', describe: 'Use only the first N test samples [default: all]' })
    .option('val', { type: 'number', describe: 'Hold out the last N training samples for validation (local runs) [default: 0]' })
    .option('patience', { type: 'number', describe: 'Early stopping: epochs without validation improvement (local runs, needs --val)' })
    .option('bn-sync', { type: 'string', describe: 'BatchNorm statistics: global (SyncBN) or local (per shard) [default: global]' })
    .option('ema-decay', { type: 'number', describe: 'Decay of the EMA of the weights [default: 0.995]' })
    .option('checkpoint-every', { type: 'number', describe: 'Also checkpoint every N steps [default: epoch ends only]' })
    .option('cycles', { type: 'number', describe: 'Cosine schedule with this many warm restarts [default: 1]' })
    .option('grad-dtype', { type: 'string', describe: 'Precision of gradients on the wire: f32, f16 (power-of-two scaled) or bf16 [default: f32]' })
    .option('bucket-mb', { type: 'number', describe: 'Overlap gradient transfer with backward: send finished parts of at least this many MiB as backward passes each BatchNorm (global SyncBN only); 0 sends whole gradients [default: 0.25]' })
    .option('heartbeat-timeout', { type: 'number', describe: 'Drop a worker silent for this many seconds [default: 10]' })
    .option('out', { type: 'string', describe: 'Run folder, created if missing [default: runs/<timestamp>]' })
    .option('json', { type: 'boolean', describe: 'Print a JSON summary as the last line of stdout' });
}

/** Defaults < --config file < flags; every value checked, the model built once to check it. */
export function runConfigFrom(args: TrainOptionArgs): RunConfig {
  const file = args.config ? readConfigFile(args.config) : {};
  const flags: Partial<RunConfig> = {
    dataset: args.data,
    epochs: args.epochs, steps: args.steps, batch: args.batch, lr: args.lr, optimizer: args.optimizer, momentum: args.momentum,
    weightDecay: args['weight-decay'], seed: args.seed, smoothing: args.smoothing, clip: args.clip, perturb: args.perturb,
    schedule: args.schedule, warmup: args.warmup, trainLimit: args['train-limit'], testLimit: args['test-limit'], val: args.val,
    patience: args.patience, bnSync: args['bn-sync'] as RunConfig['bnSync'] | undefined, emaDecay: args['ema-decay'],
    checkpointEvery: args['checkpoint-every'], cycles: args.cycles, gradDtype: args['grad-dtype'] as RunConfig['gradDtype'] | undefined,
    bucketMb: args['bucket-mb'],
  };
  return resolveRunConfig(file, flags);
}

/** Human-readable lines go to stderr under --json so stdout stays machine-readable. */
export function logFor(json: boolean | undefined): (line: string) => void {
  return (line) => void (json ? process.stderr : process.stdout).write(`${line}\n`);
}

/** A run folder's config.json, for --resume: the configuration the run started with. */
export function resumeConfig(runDir: string): RunConfig {
  return resolveRunConfig(readConfigFile(join(runDir, 'config.json')), {});
}
