import { join } from 'node:path';
import { batchesPerEpoch, takeFirst } from '@flotilla/core';
import { RunDir, type RunConfig } from '@flotilla/coordinator';
import { loadDataset } from '@flotilla/datasets';
import type { CommandModule } from 'yargs';
import { evaluateAverage, evaluateEma, evaluateEnsemble, evaluateMembers, type EvaluationReport } from '../eval/evaluate-checkpoints.js';
import { checkSameArchitecture, loadCheckpoint } from '../eval/load-checkpoints.js';
import { writeReport } from '../eval/write-report.js';
import { runDistributedTraining } from '../train/distributed-run.js';
import { runLocalTraining } from '../train/local-run.js';
import { logFor, runConfigFrom, withTrainOptions, type TrainOptionArgs } from './train-options.js';

interface EnsembleArgs extends TrainOptionArgs {
  members?: number;
  snapshot?: number;
  local?: boolean;
  workers?: number;
  threads?: number;
  'bn-samples'?: number;
}

/** Trains one run into `dir` (distributed unless --local) and returns its checkpoint folder. */
async function trainOne(config: RunConfig, args: EnsembleArgs, dir: string, log: (line: string) => void): Promise<string> {
  const runDir = RunDir.forNewRun(dir);
  if (args.local) await runLocalTraining(config, loadDataset(config.dataset), runDir, log, args.threads ?? 1);
  else await runDistributedTraining(config, { workers: args.workers ?? 2, threads: args.threads ?? 1 }, runDir, log);
  return join(runDir.path, 'checkpoints');
}

export const ensembleCommand: CommandModule<object, EnsembleArgs> = {
  command: 'ensemble',
  describe: 'Train an ensemble (M seeds, one after another, or C snapshots of one cyclic run) and evaluate it',
  builder: (y) =>
    withTrainOptions(y)
      .option('members', { type: 'number', describe: 'Members to train, with seeds seed, seed+1, ... [default: 5]' })
      .option('snapshot', { type: 'number', describe: 'Instead: one run with a cosine schedule of C cycles, a snapshot at the end of each' })
      .option('local', { type: 'boolean', describe: 'Train each member in this process' })
      .option('workers', { type: 'number', describe: 'Worker processes per member [default: 2]' })
      .option('threads', { type: 'number', describe: 'Threads per worker [default: 1]' })
      .option('bn-samples', { type: 'number', describe: 'Training samples for recomputing BatchNorm statistics [default: all]' }),
  handler: async (args) => {
    const log = logFor(args.json);
    const base = runConfigFrom(args);
    const out = new RunDir(args.out ?? RunDir.defaultPath()).path;
    const data = loadDataset(base.dataset);
    let members: string[];
    let averageOf: string[];
    if (args.snapshot !== undefined) {
      const cycles = args.snapshot;
      if (!Number.isInteger(cycles) || cycles < 2) throw new Error(`Invalid --snapshot: ${cycles} (expected an integer >= 2 cycles)`);
      const epochSteps = base.epochs * batchesPerEpoch(takeFirst(data.train, base.trainLimit).count, base.batch);
      const wanted = base.steps > 0 ? Math.min(base.steps, epochSteps) : epochSteps;
      const cycleLength = Math.floor((wanted - base.warmup) / cycles);
      if (cycleLength < 1) throw new Error(`--snapshot ${cycles}: ${wanted} steps cannot hold ${cycles} cycles`);
      const config: RunConfig = { ...base, schedule: 'cosine', cycles, steps: base.warmup + cycles * cycleLength, checkpointEvery: cycleLength };
      log(`snapshot ensemble: one run of ${config.steps} steps, cosine schedule with ${cycles} cycles of ${cycleLength} steps, a snapshot after each`);
      const dir = await trainOne(config, args, join(out, 'snapshot-run'), log);
      members = Array.from({ length: cycles }, (_, k) => join(dir, `step-${base.warmup + (k + 1) * cycleLength}.safetensors`));
      averageOf = members;
    } else {
      const count = args.members ?? 5;
      if (!Number.isInteger(count) || count < 1) throw new Error(`Invalid --members: ${count} (expected a positive integer)`);
      // One after another: each member already uses every core through its workers.
      members = [];
      let firstDir = '';
      for (let m = 0; m < count; m++) {
        log(`member ${m + 1}/${count}: seed ${base.seed + m}`);
        const dir = await trainOne({ ...base, seed: base.seed + m }, args, join(out, `member-${m + 1}`), log);
        if (m === 0) firstDir = dir;
        members.push(join(dir, 'final.safetensors'));
      }
      // The weight average is over checkpoints of one run: member 1's epoch checkpoints.
      averageOf = Array.from({ length: base.epochs }, (_, e) => join(firstDir, `epoch-${e + 1}.safetensors`));
    }
    const loadedMembers = members.map(loadCheckpoint);
    checkSameArchitecture(loadedMembers);
    const calibration = takeFirst(data.train, args['bn-samples'] ?? 0);
    const test = takeFirst(data.test, base.testLimit);
    const { members: results, probabilities } = evaluateMembers(loadedMembers, test, log);
    const report: EvaluationReport = {
      members: results,
      ensemble: evaluateEnsemble(probabilities, test),
      average: evaluateAverage(averageOf.map(loadCheckpoint), test, calibration),
      // The first member's EMA: the run the average comes from, for a like-for-like comparison.
      ema: evaluateEma(loadedMembers[0], test, calibration),
    };
    writeReport(report, out, log);
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  },
};
