import { lineChartSvg } from '../charts/line-chart.js';
import type { EvaluationReport } from './evaluate-checkpoints.js';

/** Test accuracy and NLL of the ensemble of the first k members, against k. */
export function ensembleChartSvg(report: EvaluationReport): string | null {
  const curve = report.ensemble?.curve;
  if (!curve || curve.length === 0) return null;
  return lineChartSvg([
    { name: 'test accuracy (%)', color: '#1f77b4', points: curve.map((p) => [p.size, 100 * p.accuracy]) },
    { name: 'test NLL (nats)', color: '#d62728', right: true, points: curve.map((p) => [p.size, p.nll]) },
  ], { title: 'Ensemble of the first k members', xLabel: 'ensemble size k', yLabel: 'test accuracy (%)', yRightLabel: 'test NLL' });
}
