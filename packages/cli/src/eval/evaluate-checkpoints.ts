import {
  averageParameters, averageProbabilities, predictProbabilities, probabilityMetrics, readEmaParameters, recomputeBatchNormStatistics,
  type Dataset, type Model, type ProbabilityMetrics,
} from '@flotilla/core';
import { checkSameArchitecture, type LoadedCheckpoint } from './load-checkpoints.js';

export interface MemberResult extends ProbabilityMetrics {
  checkpoint: string;
}

export interface EnsembleCurvePoint {
  size: number;
  accuracy: number;
  nll: number;
}

export interface EvaluationReport {
  members: MemberResult[];
  ensemble?: ProbabilityMetrics & { size: number; curve: EnsembleCurvePoint[] };
  average?: ProbabilityMetrics & { checkpoints: number };
  ema?: ProbabilityMetrics & { checkpoint: string };
}

export interface EvaluationOptions {
  ensemble: boolean;
  average: boolean;
  /** Training data over which BatchNorm statistics are recomputed for averaged and EMA weights. */
  calibration: Dataset;
  log: (line: string) => void;
}

function withWeights<T>(model: Model, params: Float32Array, calibration: Dataset, fn: () => T): T {
  const savedParams = Float32Array.from(model.params);
  const savedBuffers = Float32Array.from(model.buffers);
  model.params.set(params);
  recomputeBatchNormStatistics(model, calibration);
  try {
    return fn();
  } finally {
    model.params.set(savedParams);
    model.buffers.set(savedBuffers);
  }
}

/**
 * The evaluation run of `flotilla eval`: each checkpoint on the test set; with `ensemble`,
 * the average of the members' predicted probabilities (and the same for the first k members,
 * k = 1..M); with `average`, the uniform weight average with recomputed BatchNorm
 * statistics; and the EMA weights of the last checkpoint that carries them, likewise.
 */
export function evaluateCheckpoints(loaded: readonly LoadedCheckpoint[], test: Dataset, options: EvaluationOptions): EvaluationReport {
  if (options.ensemble || options.average) checkSameArchitecture(loaded);
  const classes = test.numClasses;
  const probabilities: Float64Array[] = [];
  const members = loaded.map(({ path, model }) => {
    const p = predictProbabilities(model, test);
    probabilities.push(p);
    const m = probabilityMetrics(p, test.labels, classes);
    options.log(`member ${path}: accuracy ${(100 * m.accuracy).toFixed(2)}%, NLL ${m.nll.toFixed(4)}, ECE ${m.ece.toFixed(4)}`);
    return { checkpoint: path, ...m };
  });
  const report: EvaluationReport = { members };
  if (options.ensemble) {
    const mixed = new Float64Array(test.count * classes);
    const curve = probabilities.map((_, k) => {
      const m = probabilityMetrics(averageProbabilities(probabilities.slice(0, k + 1), mixed), test.labels, classes);
      return { size: k + 1, accuracy: m.accuracy, nll: m.nll };
    });
    const whole = probabilityMetrics(averageProbabilities(probabilities, mixed), test.labels, classes);
    report.ensemble = { ...whole, size: probabilities.length, curve };
  }
  const host = loaded[loaded.length - 1];
  if (options.average) {
    const averaged = averageParameters(loaded.map((l) => l.model.params), new Float32Array(host.model.params.length)) as Float32Array;
    const m = withWeights(host.model, averaged, options.calibration, () => probabilityMetrics(predictProbabilities(host.model, test), test.labels, classes));
    report.average = { ...m, checkpoints: loaded.length };
  }
  for (let k = loaded.length - 1; k >= 0; k--) {
    const ema = readEmaParameters(loaded[k].model, loaded[k].checkpoint);
    if (!ema) continue;
    const { model } = loaded[k];
    const m = withWeights(model, ema, options.calibration, () => probabilityMetrics(predictProbabilities(model, test), test.labels, classes));
    report.ema = { ...m, checkpoint: loaded[k].path };
    break;
  }
  return report;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`.padStart(8);

/** The report as a terminal table. */
export function formatReport(report: EvaluationReport): string {
  const rows: Array<[string, ProbabilityMetrics]> = report.members.map((m, i) => [`member ${i + 1}`, m]);
  if (report.ensemble) rows.push([`ensemble of ${report.ensemble.size}`, report.ensemble]);
  if (report.average) rows.push([`average of ${report.average.checkpoints}`, report.average]);
  if (report.ema) rows.push(['EMA', report.ema]);
  const width = Math.max(...rows.map(([name]) => name.length), 8);
  const lines = [`${'model'.padEnd(width)}  accuracy      NLL      ECE`];
  for (const [name, m] of rows) lines.push(`${name.padEnd(width)}  ${pct(m.accuracy)}  ${m.nll.toFixed(4).padStart(7)}  ${m.ece.toFixed(4).padStart(7)}`);
  if (report.ensemble) {
    lines.push('', 'ensemble size:  ' + report.ensemble.curve.map((p) => `${p.size}: ${(100 * p.accuracy).toFixed(2)}%`).join('  '));
  }
  return lines.join('\n');
}
