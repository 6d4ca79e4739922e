import { registerOpenBlas } from '@flotilla/blas';
import { matmulWasmBuild, useMatmulKernel } from '@flotilla/core';
import yargs from 'yargs';
import { benchCommand } from './commands/bench.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { ensembleCommand } from './commands/ensemble.js';
import { sampleCommand } from './commands/sample.js';
import { timelineCommand } from './commands/timeline.js';
import { evalCommand } from './commands/eval.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';

/** The `flotilla` command line. Errors print one clear line and exit 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    registerOpenBlas(); // FLOTILLA_MATMUL=openblas: the native kernel, or why it cannot run here
    useMatmulKernel(process.env.FLOTILLA_MATMUL); // worker threads read the same variable
    // Compile the WebAssembly matmul here, before any worker thread starts: on Node 20 this is
    // where V8's relaxed-SIMD flag gets set (process-wide), once, on the main thread.
    matmulWasmBuild();
  } catch (error) {
    process.stderr.write(`flotilla: FLOTILLA_MATMUL: ${(error as Error).message}\n`);
    process.exit(1);
  }
  await yargs(argv)
    .scriptName('flotilla')
    .usage('$0 <command> [options]')
    .command(trainCommand)
    .command(coordinatorCommand)
    .command(workerCommand)
    .command(evalCommand)
    .command(ensembleCommand)
    .command(sampleCommand)
    .command(benchCommand)
    .command(timelineCommand)
    .demandCommand(1, 'Name a command: train, coordinator, worker, eval, ensemble, sample, bench or timeline.')
    .strict()
    .help()
    .fail((message, error, y) => {
      if (error) {
        process.stderr.write(`flotilla: ${error.message}\n`);
      } else {
        y.showHelp();
        process.stderr.write(`\nflotilla: ${message}\n`);
      }
      process.exit(1);
    })
    .parseAsync();
}
