import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatReport, type EvaluationReport } from './evaluate-checkpoints.js';
import { ensembleChartSvg } from './report-chart.js';

/** Prints the table and writes eval.json (and eval.svg when there is an ensemble curve) into `dir`. */
export function writeReport(report: EvaluationReport, dir: string, log: (line: string) => void): void {
  log(formatReport(report));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'eval.json'), `${JSON.stringify(report, null, 2)}\n`);
  const svg = ensembleChartSvg(report);
  if (svg) writeFileSync(join(dir, 'eval.svg'), svg);
  log(`wrote ${join(resolve(dir), 'eval.json')}${svg ? ' and eval.svg' : ''}`);
}
