import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { allReduceClient, benchAllReduce } from '../bench/allreduce.js';
import { benchMatmul } from '../bench/matmul.js';
import { benchMemory } from '../bench/memory.js';
import { readNetnsSummary } from '../bench/netns-summary.js';
import { calibrate, calibrationText, checkAgainst, checkTable, defaultPredictBatch, predictGrid, predictionTable, type Design } from '../bench/predict.js';
import { describeBatch, scalingModeOf } from '../bench/scaling-mode.js';
import { benchScaling, parseTopologies } from '../bench/scaling.js';
import { benchTrainThroughput, type TrainThroughput } from '../bench/train-throughput.js';
import type { RunConfig } from '@flotilla/coordinator';
import { matmulKernelLabel, matmulWasmBuild } from '@flotilla/core';
import { loadDataset, loadMnist } from '@flotilla/datasets';
import { logFor, runConfigFrom, withTrainOptions, type TrainOptionArgs } from './train-options.js';
import { noteMissingNodeFlags } from '../node-flags.js';

interface BenchArgs extends TrainOptionArgs {
  suite: string;
  floats?: string;
  rounds?: number;
  connect?: string;
  sizes?: string;
  topologies?: string;
  workers?: string;
  threads?: string;
  untimed?: number;
  from?: string;
  check?: string;
  rates?: string;
  'latency-us'?: number;
  'char-config'?: string;
  'grad-bytes'?: number;
  allreduce?: string;
  timeline?: boolean;
  repeats?: number;
  weak?: boolean;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The repository's WaveNet example: bench kernels' character model unless --char-config says otherwise. */
const WAVENET_EXAMPLE = fileURLToPath(new URL('../../../../examples/wavenet-names.json', import.meta.url));

/** The character model bench kernels times: its config file and run config, or null for none. Read first, so a bad file fails at once. */
function charModelConfig(path: string | undefined, log: (line: string) => void): { config: string; run: RunConfig } | null {
  const config = path ?? WAVENET_EXAMPLE;
  if (config === 'none') return null;
  if (path === undefined && !existsSync(config)) {
    log(`character model: skipped (no ${config}; name one with --char-config)`);
    return null;
  }
  return { config, run: runConfigFrom({ config } as TrainOptionArgs) };
}

/**
 * Single-process training of a character model (its config's model, data set and batch):
 * small matmuls, tanh, embeddings, where the default model is nearly all large matmuls.
 * More steps than the default model's, which take 20 ms each to these 3 ms.
 */
function benchCharModel({ config, run }: { config: string; run: RunConfig }, log: (line: string) => void): TrainThroughput & { config: string } {
  const train = benchTrainThroughput(loadDataset(run.dataset).train, { spec: run.model, batch: run.batch, steps: 300, warmup: 50 });
  log(`training, ${config} (${run.dataset}), batch ${train.batch}, one thread: ${Math.round(train.samples_per_sec)} samples/s ` +
    `(${train.ms_per_step.toFixed(2)} ms/step: ${train.compute_ms_per_step.toFixed(2)} forward+backward, ${train.optimizer_ms_per_step.toFixed(2)} optimizer)`);
  return { config, ...train };
}

/** `flotilla bench kernels`: matmul GFLOP/s, memory-bound op bandwidth, training samples/s. One thread. */
function benchKernels(args: BenchArgs): void {
  const sizes = (args.sizes ?? '128,256,512,1024').split(',').map(Number);
  const log = logFor(args.json);
  const charModel = charModelConfig(args['char-config'], log);
  // FLOTILLA_MATMUL (bin.ts) picks the kernel; the WebAssembly one has a fused and a plain build.
  const kernel = process.env.FLOTILLA_MATMUL ?? 'wasm';
  const wasm = matmulWasmBuild(), missing = 'unavailable (blocked fallback)';
  const build = kernel === 'wasm' ? wasm ?? missing : kernel === 'wasm-simd' ? (wasm ? 'simd' : missing) : null;
  log(`matmul, float32, one thread (C = op(A)·op(B), 2n³ flops); kernel ${kernel}${build ? `, ${build} build` : ''}`);
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
  const trainChar = charModel && benchCharModel(charModel, log);
  if (args.json) {
    const plain = matmul.filter((r) => !r.transA && !r.transB).map((r) => ({ n: r.n, gflops: r.gflops }));
    process.stdout.write(`${JSON.stringify({ matmul: plain, matmul_kernel: kernel, matmul_build: build, matmul_all: matmul, memory, train, train_char: trainChar })}\n`);
  }
}

/** `flotilla bench scaling`: real runs per topology, throughput, efficiency and where the time goes. */
async function benchScalingCommand(args: BenchArgs): Promise<void> {
  const log = logFor(args.json);
  // V8 is still compiling the hot paths over the first ~15 steps (a 1×1 step takes 40-85 ms
  // then, ~31 ms after): a long run is nearly all warm steps, so those are the ones timed.
  const warmup = args.untimed ?? 20;
  const config = runConfigFrom({ ...args, steps: args.steps ?? 30 + warmup, 'test-limit': args['test-limit'] ?? 1000 });
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`Invalid --untimed: ${args.untimed} (expected a non-negative integer)`);
  if (config.steps <= warmup) throw new Error(`--steps ${config.steps} leaves no timed step after ${warmup} warm-up steps (--untimed)`);
  const topologies = parseTopologies(args.topologies, args.workers ?? '1,2', args.threads ?? '1,2');
  const repeats = args.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`Invalid --repeats: ${args.repeats} (expected a positive integer)`);
  const outDir = args.out ?? join('runs', `bench-scaling-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  // Workers inherit FLOTILLA_MATMUL, so this process's kernel is theirs.
  const matmul = matmulKernelLabel();
  const mode = scalingModeOf(args);
  log(`scaling benchmark: ${topologies.map((t) => `${t.workers}x${t.threads}`).join(', ')}${repeats > 1 ? `, ${repeats} times in turn` : ''}; ${config.steps - warmup} timed steps, ${describeBatch(config.batch, mode)}, after ${warmup} warm-up steps; matmul kernel ${matmul}`);
  const report = await benchScaling(config, topologies, { warmup, outDir, log, matmul, timeline: args.timeline, repeats, mode });
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** `flotilla bench allreduce`: all-reduce time and bandwidth beside the loopback socket bound. */
async function benchAllReduceCommand(args: BenchArgs): Promise<void> {
  const log = logFor(args.json);
  const list = (s: string, what: string): number[] => s.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid ${what}: ${v} (expected positive integers, comma-separated)`);
    return n;
  });
  const rounds = args.rounds ?? 20, warmupRounds = args.untimed ?? 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`Invalid --rounds: ${args.rounds} (expected a positive integer)`);
  if (!Number.isInteger(warmupRounds) || warmupRounds < 0) throw new Error(`Invalid --untimed: ${args.untimed} (expected a non-negative integer)`);
  // The run config validates --grad-dtype as training does; the rest of it is not used here.
  const { gradDtype } = runConfigFrom(args);
  const bench = await benchAllReduce(list(args.floats ?? '1e5,1e6,1e7', '--floats'), list(args.workers ?? '2,4,8', '--workers'), {
    rounds, warmupRounds, warmupMs: 1000, log, gradDtype,
  });
  if (args.json) process.stdout.write(`${JSON.stringify(bench)}\n`);
}

/** `flotilla bench predict`: the step-time model, calibrated on a netns-bench run, at other rates and worker counts. */
function benchPredictCommand(args: BenchArgs): void {
  const log = logFor(args.json);
  if (!args.from) throw new Error('bench predict needs --from OUT/<rate>.json (written by scripts/netns-bench.sh)');
  const numbers = (s: string, what: string): number[] => s.split(',').map((v) => {
    const n = Number(v);
    if (!(n > 0)) throw new Error(`Invalid ${what}: ${v} (expected positive numbers, comma-separated)`);
    return n;
  });
  const from = readNetnsSummary(args.from);
  const calibration = calibrate(from);
  log(`calibrated on ${args.from} (${from.rate} links, workers ${from.runs.map((r) => r.workers).join(', ')}):`);
  log(calibrationText(calibration));
  let check;
  if (args.check) {
    const measured = readNetnsSummary(args.check);
    check = checkAgainst(calibration, measured);
    log('');
    log(checkTable(check, `${measured.rate} (${args.check})`));
  }
  const allreduce = args.allreduce ?? 'ps';
  if (allreduce !== 'ps' && allreduce !== 'ring') throw new Error(`Invalid --allreduce: ${allreduce} (ps or ring)`);
  const gradBytes = args['grad-bytes'] ?? 4;
  if (gradBytes !== 4 && gradBytes !== 2) throw new Error(`Invalid --grad-bytes: ${gradBytes} (4 or 2)`);
  const design: Design = { allreduce, gradBytes };
  const latencyUs = args['latency-us'] ?? 50;
  const mode = scalingModeOf(args);
  const batch = args.batch ?? defaultPredictBatch(calibration, mode);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`Invalid --batch: ${args.batch ?? batch} (expected a positive integer)`);
  const predictions = predictGrid(calibration, numbers(args.rates ?? '1,10,100', '--rates'), numbers(args.workers ?? '8,16,32,64', '--workers'), latencyUs, design, batch, mode);
  log('');
  log(`predicted (ms per step; ${allreduce === 'ps' ? 'parameter server' : 'ring all-reduce'}, ${gradBytes === 4 ? 'float32' : '16-bit'} gradients, ` +
    `${describeBatch(batch, mode)}, ${calibration.threads} thread(s) per worker, one-way latency ${latencyUs} µs):`);
  log(predictionTable(predictions));
  if (args.json) process.stdout.write(`${JSON.stringify({ calibration, check, design, scaling: mode, latency_us: latencyUs, predictions })}\n`);
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <suite>',
  describe: 'Benchmarks: kernels (one thread), scaling (real runs per topology), allreduce (the socket path alone), predict (step-time model from scripts/netns-bench.sh)',
  builder: (y) =>
    withTrainOptions(y)
      .positional('suite', { choices: ['kernels', 'scaling', 'allreduce', 'allreduce-client', 'predict'], describe: 'Which benchmark', demandOption: true, type: 'string' })
      .option('floats', { type: 'string', describe: 'allreduce: vector sizes [default: 1e5,1e6,1e7]' })
      .option('rounds', { type: 'number', describe: 'allreduce: rounds per size [default: 20]' })
      .option('connect', { type: 'string', hidden: true })
      .option('sizes', { type: 'string', describe: 'kernels: square matmul sizes [default: 128,256,512,1024]' })
      .option('char-config', { type: 'string', describe: 'kernels: run config of the character model also timed, or none [default: examples/wavenet-names.json]' })
      .option('topologies', { type: 'string', describe: 'scaling: WORKERSxTHREADS list, e.g. 1x1,1x2,2x1' })
      .option('workers', { type: 'string', describe: 'scaling: worker counts to combine with --threads [default: 1,2]; allreduce: [default: 2,4,8]; predict: [default: 8,16,32,64]' })
      .option('threads', { type: 'string', describe: 'scaling: thread counts per worker [default: 1,2]' })
      // Not --warmup: that is the learning-rate warm-up, which scaling runs take from the train options.
      .option('untimed', { type: 'number', describe: 'scaling: warm-up steps at the start of each run, not timed [default: 20]; allreduce: warm-up rounds per size, and at least 1 s of them [default: 5]' })
      .option('from', { type: 'string', describe: 'predict: calibrate on this OUT/<rate>.json of scripts/netns-bench.sh' })
      .option('check', { type: 'string', describe: 'predict: also show predicted against measured for this OUT/<rate>.json' })
      .option('rates', { type: 'string', describe: 'predict: link rates in Gbit/s [default: 1,10,100]' })
      .option('latency-us', { type: 'number', describe: 'predict: one-way link latency in µs [default: 50]' })
      .option('grad-bytes', { type: 'number', describe: 'predict: bytes per gradient value on the wire, 4 or 2 [default: 4]' })
      .option('allreduce', { type: 'string', describe: 'predict: ps (parameter server, as built) or ring (what a ring all-reduce would do) [default: ps]' })
      .option('repeats', { type: 'number', describe: 'scaling: run the topologies in turn this many times, each run in OUT/WxT-runK, and report each one\'s median run (for an even count the faster of the middle two) and spread [default: 1]' })
      .option('weak', { type: 'boolean', describe: 'scaling and predict: weak scaling, --batch rows per thread (W × T × --batch per step, as Horovod and DDP figures keep the batch per GPU); without it, strong scaling: the global batch --batch split over all threads' })
      .option('timeline', { type: 'boolean', describe: 'scaling: also record each run\'s timed steps in its folder\'s timeline.json (draw one with flotilla timeline OUT/2x1, or OUT/2x1-run1 with --repeats)' }),
  handler: async (args) => {
    if (args.suite === 'scaling' || args.suite === 'allreduce') noteMissingNodeFlags();
    if (args.suite === 'kernels') benchKernels(args);
    else if (args.suite === 'scaling') await benchScalingCommand(args);
    else if (args.suite === 'allreduce-client') await allReduceClient(args.connect ?? '', runConfigFrom(args).gradDtype);
    else if (args.suite === 'predict') benchPredictCommand(args);
    else await benchAllReduceCommand(args);
  },
};
