import type { CommandModule } from 'yargs';

export const benchCommand: CommandModule = {
  command: 'bench <suite>',
  describe: 'Benchmarks: kernels',
  builder: (y) => y.positional('suite', { choices: ['kernels'] as const, describe: 'Which benchmark' }),
  handler: () => {
    throw new Error('not built yet');
  },
};
