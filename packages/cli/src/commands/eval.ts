import { join } from 'node:path';
import { takeFirst } from '@flotilla/core';
import { loadDataset } from '@flotilla/datasets';
import type { CommandModule } from 'yargs';
import { evaluateCheckpoints, type EvaluationReport } from '../eval/evaluate-checkpoints.js';
import { loadCheckpoint } from '../eval/load-checkpoints.js';
import { writeReport } from '../eval/write-report.js';
import { logFor } from './train-options.js';

interface EvalArgs {
  checkpoints: string[];
  data?: string;
  ensemble?: boolean;
  average?: boolean;
  'bn-samples'?: number;
  'test-limit'?: number;
  out?: string;
  json?: boolean;
}

export interface EvalRunOptions {
  data: string;
  ensemble: boolean;
  average: boolean;
  bnSamples: number;
  testLimit: number;
  out: string;
  log: (line: string) => void;
}

/** Loads, evaluates, prints the table and writes eval.json (+ eval.svg for ensembles). */
export function runEvaluation(paths: string[], o: EvalRunOptions): EvaluationReport {
  const loaded = paths.map(loadCheckpoint);
  const data = loadDataset(o.data);
  const report = evaluateCheckpoints(loaded, takeFirst(data.test, o.testLimit), {
    ensemble: o.ensemble, average: o.average, calibration: takeFirst(data.train, o.bnSamples), log: o.log,
  });
  writeReport(report, o.out, o.log);
  return report;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <checkpoints..>',
  describe: 'Evaluate checkpoints on the test set: each member, their ensemble, their weight average, the EMA weights',
  builder: (y) =>
    y
      .positional('checkpoints', { type: 'string', array: true, demandOption: true, describe: 'safetensors checkpoints' })
      .option('data', { type: 'string', describe: 'Data set [default: mnist]' })
      .option('ensemble', { type: 'boolean', describe: 'Add the ensemble that averages predicted probabilities' })
      .option('average', { type: 'boolean', describe: 'Add the uniform weight average (checkpoints of one run), BatchNorm statistics recomputed' })
      .option('bn-samples', { type: 'number', describe: 'Training samples for recomputing BatchNorm statistics [default: all]' })
      .option('test-limit', { type: 'number', describe: 'Use only the first N test samples [default: all]' })
      .option('out', { type: 'string', describe: 'Folder for eval.json and eval.svg [default: runs/eval-<timestamp>]' })
      .option('json', { type: 'boolean', describe: 'Print the report as one JSON object on the last line of stdout' }),
  // Async, like every handler here: a sync throw would escape yargs' fail handler as a stack trace.
  handler: async (args) => {
    const log = logFor(args.json);
    const report = runEvaluation(args.checkpoints, {
      data: args.data ?? 'mnist', ensemble: args.ensemble ?? false, average: args.average ?? false,
      bnSamples: args['bn-samples'] ?? 0, testLimit: args['test-limit'] ?? 0,
      out: args.out ?? join('runs', `eval-${new Date().toISOString().replace(/[:.]/g, '-')}`), log,
    });
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  },
};
