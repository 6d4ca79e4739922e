import type { CommandModule } from 'yargs';
import { loadMnist } from '@flotilla/datasets';
import { RunDir } from '../run/run-dir.js';
import { runLocalTraining } from '../train/local-run.js';
import { readConfigFile, resolveTrainConfig, type TrainConfig } from './train-config.js';

interface TrainArgs {
  local?: boolean;
  config?: string;
  epochs?: number;
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
  out?: string;
  json?: boolean;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a model on MNIST (default: 784-512-256-10 MLP with BatchNorm and dropout)',
  builder: (y) =>
    y
      .option('local', { type: 'boolean', describe: 'Train in this process (no coordinator or workers)' })
      .option('config', { type: 'string', describe: 'Model spec or run config (JSON)' })
      .option('epochs', { type: 'number', describe: 'Passes over the training data [default: 5]' })
      .option('batch', { type: 'number', describe: 'Global mini-batch size [default: 256]' })
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
      .option('val', { type: 'number', describe: 'Hold out the last N training samples for validation [default: 0]' })
      .option('patience', { type: 'number', describe: 'Early stopping: epochs without validation improvement (needs --val)' })
      .option('out', { type: 'string', describe: 'Run folder, created if missing [default: runs/<timestamp>]' })
      .option('json', { type: 'boolean', describe: 'Print a JSON summary as the last line of stdout' }),
  handler: (args) => {
    if (!args.local) {
      throw new Error('Distributed training (coordinator + workers) is not built yet: pass --local to train in this process');
    }
    const file = args.config ? readConfigFile(args.config) : {};
    const flags: Partial<TrainConfig> = {
      epochs: args.epochs, batch: args.batch, lr: args.lr, optimizer: args.optimizer, momentum: args.momentum, weightDecay: args['weight-decay'],
      seed: args.seed, smoothing: args.smoothing, clip: args.clip, perturb: args.perturb, schedule: args.schedule,
      warmup: args.warmup, trainLimit: args['train-limit'], testLimit: args['test-limit'], val: args.val, patience: args.patience,
    };
    const config = resolveTrainConfig(file, flags);
    const runDir = new RunDir(args.out ?? RunDir.defaultPath());
    // Human-readable lines go to stderr under --json so stdout stays machine-readable.
    const log = (line: string): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`);
    const summary = runLocalTraining(config, loadMnist(), runDir, log);
    log(`test accuracy ${(100 * summary.test_accuracy).toFixed(2)}%, test loss ${summary.test_loss.toFixed(4)}, ` +
      `${Math.round(summary.samples_per_sec)} samples/s; checkpoint ${summary.checkpoint}`);
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
};
