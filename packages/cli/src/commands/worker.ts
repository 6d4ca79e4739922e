import { runWorker } from '@flotilla/worker';
import type { CommandModule } from 'yargs';
import { noteMissingNodeFlags } from '../node-flags.js';

interface WorkerArgs {
  connect: string;
  token?: string;
  threads?: number;
  'retry-for'?: number;
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'Join a coordinator and compute gradients with a pool of threads',
  builder: (y) =>
    y
      .option('connect', { type: 'string', demandOption: true, describe: 'Coordinator address, ws://HOST:PORT' })
      .option('token', { type: 'string', describe: 'The run token [default: $FLOTILLA_TOKEN]' })
      .option('threads', { type: 'number', describe: 'Threads computing gradients [default: 1]' })
      .option('retry-for', { type: 'number', describe: 'Seconds to keep trying to reach the coordinator [default: 60]' }),
  handler: async (args) => {
    const token = args.token ?? process.env.FLOTILLA_TOKEN;
    if (!token) throw new Error('No token: pass --token or set FLOTILLA_TOKEN');
    const threads = args.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`Invalid --threads: ${threads} (expected a positive integer)`);
    if (!/^wss?:\/\//.test(args.connect)) throw new Error(`Invalid --connect: ${args.connect} (expected ws://HOST:PORT)`);
    noteMissingNodeFlags();
    await runWorker({ url: args.connect, token, threads, retryForMs: 1000 * (args['retry-for'] ?? 60) });
  },
};
