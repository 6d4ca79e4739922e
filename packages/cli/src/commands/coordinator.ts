import { buildModel } from '@flotilla/core';
import { Coordinator, latestGoodCheckpoint, RunDir } from '@flotilla/coordinator';
import { loadDataset } from '@flotilla/datasets';
import type { CommandModule } from 'yargs';
import { progressReporter } from '../train/distributed-run.js';
import { checkModelFitsData, runData } from '../train/run-data.js';
import { logFor, resumeConfig, runConfigFrom, withTrainOptions, type TrainOptionArgs } from './train-options.js';
import { noteMissingNodeFlags } from '../node-flags.js';
import { parseTimelineSteps } from '../train/timeline-steps.js';

interface CoordinatorArgs extends TrainOptionArgs {
  resume?: string;
  port?: number;
  host?: string;
  token?: string;
  workers?: number;
  timeline?: string;
}

export const coordinatorCommand: CommandModule<object, CoordinatorArgs> = {
  command: 'coordinator',
  describe: 'Run the coordinator alone; workers join with `flotilla worker --connect ws://HOST:PORT`',
  builder: (y) =>
    withTrainOptions(y)
      .option('port', { type: 'number', describe: 'Port to listen on [default: 7070]' })
      .option('host', { type: 'string', describe: 'Address to bind [default: 127.0.0.1; 0.0.0.0 for other machines]' })
      .option('token', { type: 'string', describe: 'The run token workers must present [default: $FLOTILLA_TOKEN]' })
      .option('workers', { type: 'number', describe: 'Workers to wait for before the first step [default: 1]' })
      .option('resume', { type: 'string', describe: 'Continue the run in this folder from its newest good checkpoint' })
      .option('timeline', { type: 'string', describe: 'Record where every process and thread spends each step, or steps FROM-TO: timeline.json in the run folder, a Chrome trace (open it in ui.perfetto.dev; draw it with flotilla timeline)' }),
  handler: async (args) => {
    const token = args.token ?? process.env.FLOTILLA_TOKEN;
    if (!token) throw new Error('No token: pass --token or set FLOTILLA_TOKEN (workers must present the same one)');
    const log = logFor(args.json);
    noteMissingNodeFlags();
    const config = args.resume ? resumeConfig(args.resume) : runConfigFrom(args);
    const resume = args.resume ? latestGoodCheckpoint(args.resume, (m) => log(`warning: ${m}`)) : undefined;
    const data = loadDataset(config.dataset);
    checkModelFitsData(buildModel(config.model), data, config.dataset);
    const runDir = args.resume ? new RunDir(args.resume) : RunDir.forNewRun(args.out ?? RunDir.defaultPath());
    const coordinator = new Coordinator({
      config, ...runData(data, config), runDir, token,
      host: args.host ?? '127.0.0.1', port: args.port ?? 7070, workers: args.workers ?? 1, joinTimeoutMs: 3600_000, onEvent: progressReporter(log),
      heartbeatTimeoutMs: 1000 * (args['heartbeat-timeout'] ?? 10), resume, timeline: parseTimelineSteps(args.timeline),
    });
    const port = await coordinator.listen();
    log(`coordinator listening on ws://${args.host ?? '127.0.0.1'}:${port}, waiting for ${args.workers ?? 1} worker(s); run folder ${runDir.path}`);
    process.once('SIGINT', () => void coordinator.close('interrupted').then(() => process.exit(130)));
    const summary = await coordinator.run();
    log(`test accuracy ${(100 * summary.test_accuracy).toFixed(2)}% (EMA ${(100 * summary.ema_test_accuracy).toFixed(2)}%), ${Math.round(summary.samples_per_sec)} samples/s`);
    if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
};
