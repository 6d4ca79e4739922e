import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { RunDir } from '@flotilla/coordinator';
import { mean } from '../bench/stats.js';
import { timelineChartSvg } from '../charts/timeline-chart.js';
import { coordinatorSteps, parseTimeline, selectSteps, stepRanges, stepsLabel, timelineSummary, type TimelineSummary } from '../charts/timeline-data.js';
import { logFor } from './train-options.js';

interface TimelineArgs {
  run: string;
  'from-step'?: number;
  steps?: number;
  out?: string;
  json?: boolean;
}

export interface TimelineReport extends TimelineSummary {
  timeline: string;
  svg: string;
  from_step: number;
  /** Every coordinator step in the file, as ranges ("0-29"). */
  available: string;
}

/**
 * The run's timeline file: RUN/timeline.json, or for a resumed run's folder the newest
 * timeline-from-step-N.json; a file path is taken as it is.
 */
export function timelinePathOf(runOrFile: string): string {
  if (!existsSync(runOrFile)) throw new Error(`no such run folder or file: ${runOrFile}`);
  if (!statSync(runOrFile).isDirectory()) return runOrFile;
  const recorded = RunDir.timelinesIn(runOrFile);
  if (recorded.length === 0) throw new Error(`no timeline.json in ${runOrFile}: record one with flotilla train --timeline`);
  return basename(recorded[0]) === 'timeline.json' ? recorded[0] : recorded[recorded.length - 1];
}

/** Reads a timeline, draws the chosen steps to an SVG and sums up where their time went. */
export function runTimeline(runOrFile: string, o: { fromStep?: number; steps?: number; out?: string; log: (line: string) => void }): TimelineReport {
  const path = timelinePathOf(runOrFile);
  let records;
  try {
    records = parseTimeline(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const available = coordinatorSteps(records);
  if (available.length === 0) throw new Error(`${path}: no coordinator steps in the timeline (a run that stopped before its first step?)`);
  const count = o.steps ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`Invalid --steps: ${o.steps} (expected a positive integer)`);
  // Default: warm steps after the middle of the run, short of the last one, whose span also
  // holds the final evaluation.
  const fromStep = o.fromStep ?? available[Math.max(0, Math.min(Math.floor(available.length / 2), available.length - 1 - count))];
  if (!Number.isInteger(fromStep) || fromStep < 0) throw new Error(`Invalid --from-step: ${o.fromStep} (expected a non-negative integer)`);
  const last = available[available.length - 1];
  if (fromStep > last) throw new Error(`--from-step ${fromStep} is past the last step of ${path}: it has steps ${stepRanges(available)}`);
  let selection;
  try {
    selection = selectSteps(records, fromStep, count);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  const summary = timelineSummary(selection);
  const first = summary.steps[0], final = summary.steps[summary.steps.length - 1];
  const run = basename(dirname(path));
  const svg = timelineChartSvg(selection, { title: `${run}: ${stepsLabel(first, final)}, where the time went` });
  const out = o.out ?? join(dirname(path), 'timeline.svg');
  writeFileSync(out, svg);
  const perStep = mean(summary.step_ms);
  o.log(`wrote ${out}: ${stepsLabel(first, final)} of ${stepRanges(available)}, ${perStep.toFixed(1)} ms per step`);
  const width = Math.max(...summary.rows.map((r) => r.label.length));
  for (const r of summary.rows) {
    const detail = r.kind === 'compute'
      ? `compute ${mean(r.compute_ms ?? []).toFixed(1)} ms + SyncBN wait ${mean(r.syncbn_wait_ms ?? []).toFixed(1)} ms per step`
      : `busy ${mean(r.busy_ms ?? []).toFixed(1)} ms per step (${perStep > 0 ? Math.round((100 * mean(r.busy_ms ?? [])) / perStep) : 0}% of the step)`;
    o.log(`  ${r.label.padEnd(width)}  ${detail}`);
  }
  return { timeline: path, svg: out, from_step: fromStep, available: stepRanges(available), ...summary };
}

export const timelineCommand: CommandModule<object, TimelineArgs> = {
  command: 'timeline <run>',
  describe: 'Draw a --timeline run\'s steps as an SVG Gantt chart (a row per process and thread) and sum up where their time went',
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'Run folder (with timeline.json) or the timeline file' })
      .option('from-step', { type: 'number', describe: 'First step to draw [default: the middle of the run]' })
      .option('steps', { type: 'number', describe: 'How many steps to draw [default: 3]' })
      .option('out', { type: 'string', describe: 'SVG file to write [default: timeline.svg beside the timeline]' })
      .option('json', { type: 'boolean', describe: 'Print the summary as one JSON object on the last line of stdout' }),
  // Async so a thrown error reaches yargs' fail handler (one clear line) instead of escaping as a stack trace.
  handler: async (args) => {
    const log = logFor(args.json);
    const report = runTimeline(args.run, { fromStep: args['from-step'], steps: args.steps, out: args.out, log });
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  },
};
