import { sampleWords } from '@flotilla/core';
import type { CommandModule } from 'yargs';
import { loadCheckpoint } from '../eval/load-checkpoints.js';

interface SampleArgs {
  checkpoint: string;
  n?: number;
  seed?: number;
  temperature?: number;
  json?: boolean;
}

export const sampleCommand: CommandModule<object, SampleArgs> = {
  command: 'sample <checkpoint>',
  describe: 'Print words sampled from a character language model checkpoint (reproducible by --seed)',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'safetensors checkpoint of a character model' })
      .option('n', { type: 'number', describe: 'How many words [default: 20]' })
      .option('seed', { type: 'number', describe: 'Seed of the draws [default: 0]' })
      .option('temperature', { type: 'number', describe: 'Softmax temperature [default: 1]' })
      .option('json', { type: 'boolean', describe: 'Print the words as one JSON array' }),
  // Async, like every handler here: a sync throw would escape yargs' fail handler as a stack trace.
  handler: async (args) => {
    const { model, checkpoint } = loadCheckpoint(args.checkpoint);
    const vocab = (checkpoint.state as { vocab?: unknown } | null)?.vocab;
    if (typeof vocab !== 'string') throw new Error(`Checkpoint ${args.checkpoint} is not of a character model: its metadata has no vocabulary`);
    const words = sampleWords(model, { vocab, count: args.n ?? 20, seed: args.seed ?? 0, temperature: args.temperature ?? 1 });
    process.stdout.write(args.json ? `${JSON.stringify(words)}\n` : `${words.join('\n')}\n`);
  },
};
