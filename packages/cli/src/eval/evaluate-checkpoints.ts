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

/** Each checkpoint on the test set; also returns the members' probabilities for ensembling. */
export function evaluateMembers(loaded: readonly LoadedCheckpoint[], test: Dataset, log: (line: string) => void): { members: MemberResult[]; probabilities: Float64Array[] } {
  const probabilities: Float64Array[] = [];
  const members = loaded.map(({ path, model }) => {
    const p = predictProbabilities(model, test);
    probabilities.push(p);
    const m = probabilityMetrics(p, test.labels, test.numClasses);
    log(`member ${path}: accuracy ${(100 * m.accuracy).toFixed(2)}%, NLL ${m.nll.toFixed(4)}, ECE ${m.ece.toFixed(4)}`);
    return { checkpoint: path, ...m };
  });
  return { members, probabilities };
}

/** The ensemble that averages the members' probabilities, and its curve over the first k members. */
export function evaluateEnsemble(probabilities: readonly Float64Array[], test: Dataset): NonNullable<EvaluationReport['ensemble']> {
  const mixed = new Float64Array(test.count * test.numClasses);
  const curve = probabilities.map((_, k) => {
    const m = probabilityMetrics(averageProbabilities(probabilities.slice(0, k + 1), mixed), test.labels, test.numClasses);
    return { size: k + 1, accuracy: m.accuracy, nll: m.nll };
  });
  const whole = probabilityMetrics(averageProbabilities(probabilities, mixed), test.labels, test.numClasses);
  return { ...whole, size: probabilities.length, curve };
}

/** The uniform weight average of checkpoints of one run, BatchNorm statistics recomputed. */
export function evaluateAverage(loaded: readonly LoadedCheckpoint[], test: Dataset, calibration: Dataset): NonNullable<EvaluationReport['average']> {
  checkSameArchitecture(loaded);
  const host = loaded[loaded.length - 1].model;
  const averaged = averageParameters(loaded.map((l) => l.model.params), new Float32Array(host.params.length)) as Float32Array;
  const m = withWeights(host, averaged, calibration, () => probabilityMetrics(predictProbabilities(host, test), test.labels, test.numClasses));
  return { ...m, checkpoints: loaded.length };
}

/** The EMA weights of a checkpoint, BatchNorm statistics recomputed; undefined when it has none. */
export function evaluateEma(loaded: LoadedCheckpoint, test: Dataset, calibration: Dataset): EvaluationReport['ema'] {
  const ema = readEmaParameters(loaded.model, loaded.checkpoint);
  if (!ema) return undefined;
  const { model } = loaded;
  const m = withWeights(model, ema, calibration, () => probabilityMetrics(predictProbabilities(model, test), test.labels, test.numClasses));
  return { ...m, checkpoint: loaded.path };
}

/**
 * The evaluation run of `flotilla eval`: each checkpoint on the test set; with `ensemble`,
 * the average of the members' predicted probabilities (and of the first k members, k =
 * 1..M); with `average`, the uniform weight average with recomputed BatchNorm statistics;
 * and the EMA weights of the last checkpoint that carries them, likewise.
 */
export function evaluateCheckpoints(loaded: readonly LoadedCheckpoint[], test: Dataset, options: EvaluationOptions): EvaluationReport {
  if (options.ensemble) checkSameArchitecture(loaded);
  const { members, probabilities } = evaluateMembers(loaded, test, options.log);
  const report: EvaluationReport = { members };
  if (options.ensemble) report.ensemble = evaluateEnsemble(probabilities, test);
  if (options.average) report.average = evaluateAverage(loaded, test, options.calibration);
  const withEma = [...loaded].reverse().find((l) => l.checkpoint.tensors.has(`ema.${l.model.paramLayout[0]?.name}`));
  if (withEma) report.ema = evaluateEma(withEma, test, options.calibration);
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
