import type { CommandModule } from 'yargs';
import { benchMatmul } from '../bench/matmul.js';
import { benchMemory } from '../bench/memory.js';
import { benchTrainThroughput } from '../bench/train-throughput.js';
import { loadMnist } from '@flotilla/datasets';

interface BenchArgs {
  suite: string;
  json?: boolean;
  sizes?: string;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** `flotilla bench kernels`: matmul GFLOP/s, memory-bound op bandwidth, training samples/s. One thread. */
function benchKernels(args: BenchArgs): void {
  const sizes = (args.sizes ?? '128,256,512,1024').split(',').map(Number);
  const log = (line: string): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  log('matmul, float32, one thread (C = op(A)·op(B), 2n³ flops)');
  log(`${pad('n', 6)} ${pad('A·B', 8)} ${pad('A·Bᵀ', 8)} ${pad('Aᵀ·B', 8)}  GFLOP/s`);
  const matmul = benchMatmul({ sizes });
  for (const n of sizes) {
    const g = (ta: boolean, tb: boolean): string => (matmul.find((r) => r.n === n && r.transA === ta && r.transB === tb)?.gflops ?? NaN).toFixed(2);
    log(`${pad(n, 6)} ${pad(g(false, false), 8)} ${pad(g(false, true), 8)} ${pad(g(true, false), 8)}`);
  }
  const memory = benchMemory();
  for (const m of memory) log(`${m.op}: ${m.gb_per_sec.toFixed(2)} GB/s over ${m.floats} floats`);
  const train = benchTrainThroughput(loadMnist().train);
  log(`training, default model (784-512-256-10, BatchNorm, dropout, Adam), batch ${train.batch}, one thread: ` +
    `${Math.round(train.samples_per_sec)} samples/s (${train.ms_per_step.toFixed(1)} ms/step: ` +
    `${train.compute_ms_per_step.toFixed(1)} forward+backward, ${train.optimizer_ms_per_step.toFixed(1)} optimizer)`);
  if (args.json) {
    const plain = matmul.filter((r) => !r.transA && !r.transB).map((r) => ({ n: r.n, gflops: r.gflops }));
    process.stdout.write(`${JSON.stringify({ matmul: plain, matmul_all: matmul, memory, train })}\n`);
  }
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <suite>',
  describe: 'Benchmarks (kernels: matmul, memory-bound ops and training throughput on one thread)',
  builder: (y) =>
    y
      .positional('suite', { choices: ['kernels'], describe: 'Which benchmark', demandOption: true, type: 'string' })
      .option('sizes', { type: 'string', describe: 'Square matmul sizes, comma-separated [default: 128,256,512,1024]' })
      .option('json', { type: 'boolean', describe: 'Print one JSON object as the last line of stdout' }),
  handler: (args) => benchKernels(args),
};
