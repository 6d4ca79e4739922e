import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { allReduceClient, benchAllReduce } from '../bench/allreduce.js';
import { benchMatmul } from '../bench/matmul.js';
import { benchMemory } from '../bench/memory.js';
import { benchScaling, parseTopologies } from '../bench/scaling.js';
import { benchTrainThroughput } from '../bench/train-throughput.js';
import { loadMnist } from '@flotilla/datasets';
import { logFor, runConfigFrom, withTrainOptions, type TrainOptionArgs } from './train-options.js';

interface BenchArgs extends TrainOptionArgs {
  suite: string;
  floats?: string;
  rounds?: number;
  connect?: string;
  sizes?: string;
  topologies?: string;
  workers?: string;
  threads?: string;
  warmup?: number;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** `flotilla bench kernels`: matmul GFLOP/s, memory-bound op bandwidth, training samples/s. One thread. */
function benchKernels(args: BenchArgs): void {
  const sizes = (args.sizes ?? '128,256,512,1024').split(',').map(Number);
  const log = logFor(args.json);
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

/** `flotilla bench scaling`: real runs per topology, throughput, efficiency and where the time goes. */
async function benchScalingCommand(args: BenchArgs): Promise<void> {
  const log = logFor(args.json);
  const warmup = args.warmup ?? 3;
  const config = runConfigFrom({ ...args, steps: args.steps ?? 30 + warmup, 'test-limit': args['test-limit'] ?? 1000 });
  const topologies = parseTopologies(args.topologies, args.workers ?? '1,2', args.threads ?? '1,2');
  const outDir = args.out ?? join('runs', `bench-scaling-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  log(`scaling benchmark: ${topologies.map((t) => `${t.workers}x${t.threads}`).join(', ')}; ${config.steps - warmup} timed steps of batch ${config.batch} after ${warmup} warm-up steps`);
  const runs = await benchScaling(config, topologies, { warmup, outDir, log });
  if (args.json) process.stdout.write(`${JSON.stringify({ runs })}\n`);
}

/** `flotilla bench allreduce`: all-reduce time and bandwidth beside the loopback socket bound. */
async function benchAllReduceCommand(args: BenchArgs): Promise<void> {
  const log = logFor(args.json);
  const list = (s: string, what: string): number[] => s.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid ${what}: ${v} (expected positive integers, comma-separated)`);
    return n;
  });
  const runs = await benchAllReduce(list(args.floats ?? '1e5,1e6,1e7', '--floats'), list(args.workers ?? '2,4,8', '--workers'), { rounds: args.rounds ?? 20, log });
  if (args.json) process.stdout.write(`${JSON.stringify({ runs })}\n`);
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <suite>',
  describe: 'Benchmarks: kernels (one thread), scaling (real runs per topology), allreduce (the socket path alone)',
  builder: (y) =>
    withTrainOptions(y)
      .positional('suite', { choices: ['kernels', 'scaling', 'allreduce', 'allreduce-client'], describe: 'Which benchmark', demandOption: true, type: 'string' })
      .option('floats', { type: 'string', describe: 'allreduce: vector sizes [default: 1e5,1e6,1e7]' })
      .option('rounds', { type: 'number', describe: 'allreduce: rounds per size [default: 20]' })
      .option('connect', { type: 'string', hidden: true })
      .option('sizes', { type: 'string', describe: 'kernels: square matmul sizes [default: 128,256,512,1024]' })
      .option('topologies', { type: 'string', describe: 'scaling: WORKERSxTHREADS list, e.g. 1x1,1x2,2x1' })
      .option('workers', { type: 'string', describe: 'scaling: worker counts to combine with --threads [default: 1,2]; allreduce: [default: 2,4,8]' })
      .option('threads', { type: 'string', describe: 'scaling: thread counts per worker [default: 1,2]' })
      .option('warmup', { type: 'number', describe: 'scaling: untimed steps at the start of each run [default: 3]' }),
  handler: async (args) => {
    if (args.suite === 'kernels') benchKernels(args);
    else if (args.suite === 'scaling') await benchScalingCommand(args);
    else if (args.suite === 'allreduce-client') await allReduceClient(args.connect ?? '');
    else await benchAllReduceCommand(args);
  },
};
