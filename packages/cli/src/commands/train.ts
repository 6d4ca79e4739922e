import { latestGoodCheckpoint, RunDir } from '@flotilla/coordinator';
import { loadDataset } from '@flotilla/datasets';
import type { CommandModule } from 'yargs';
import { runDistributedTraining } from '../train/distributed-run.js';
import { runLocalTraining } from '../train/local-run.js';
import { logFor, resumeConfig, runConfigFrom, withTrainOptions, type TrainOptionArgs } from './train-options.js';
import { noteMissingNodeFlags } from '../node-flags.js';
import { parseTimelineSteps } from '../train/timeline-steps.js';

interface TrainArgs extends TrainOptionArgs {
  local?: boolean;
  resume?: string;
  workers?: number;
  threads?: number;
  timeline?: string;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a model: a coordinator plus N local workers (or --local, one process)',
  builder: (y) =>
    withTrainOptions(y)
      .option('local', { type: 'boolean', describe: 'Train in this process (no coordinator or workers)' })
      .option('workers', { type: 'number', describe: 'Worker processes to start on this machine [default: 2]' })
      .option('threads', { type: 'number', describe: 'Threads per worker; with --local, threads of this process computing each batch [default: 1]' })
      .option('resume', { type: 'string', describe: 'Continue the distributed run in this folder from its newest good checkpoint' })
      .option('timeline', { type: 'string', describe: 'Record where every process and thread spends each step, or steps FROM-TO: timeline.json in the run folder, a Chrome trace (open it in ui.perfetto.dev; draw it with flotilla timeline)' }),
  handler: async (args) => {
    const log = logFor(args.json);
    if (args.resume && args.local) throw new Error('--resume continues a distributed run; it does not apply to --local');
    const config = args.resume ? resumeConfig(args.resume) : runConfigFrom(args);
    const runDir = args.resume ? new RunDir(args.resume) : RunDir.forNewRun(args.out ?? RunDir.defaultPath());
    if (args.local) {
      if (args.timeline !== undefined) throw new Error('--timeline records a distributed run; it does not apply to --local');
      const summary = await runLocalTraining(config, loadDataset(config.dataset), runDir, log, args.threads ?? 1);
      log(`test accuracy ${(100 * summary.test_accuracy).toFixed(2)}%, test loss ${summary.test_loss.toFixed(4)}, ` +
        `${Math.round(summary.samples_per_sec)} samples/s; checkpoint ${summary.checkpoint}`);
      if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    noteMissingNodeFlags();
    const workers = args.workers ?? 2;
    const threads = args.threads ?? 1;
    for (const [name, v] of [['workers', workers], ['threads', threads]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Invalid --${name}: ${v} (expected a positive integer)`);
    }
    const resume = args.resume ? latestGoodCheckpoint(args.resume, (m) => log(`warning: ${m}`)) : undefined;
    const heartbeatTimeoutMs = 1000 * (args['heartbeat-timeout'] ?? 10);
    const summary = await runDistributedTraining(config, { workers, threads, heartbeatTimeoutMs, resume, timeline: parseTimelineSteps(args.timeline) }, runDir, log);
    log(`test accuracy ${(100 * summary.test_accuracy).toFixed(2)}% (EMA ${(100 * summary.ema_test_accuracy).toFixed(2)}%), ` +
      `test loss ${summary.test_loss.toFixed(4)}, ${Math.round(summary.samples_per_sec)} samples/s; checkpoint ${summary.checkpoint}`);
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
};
