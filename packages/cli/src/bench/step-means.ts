import { mean, meanIfAll } from './stats.js';

/** What a run's timed steps (its metrics.jsonl step records) come to, per step. */
export interface StepMeans {
  /** Σ samples / Σ step time: the rate the steps' mean time gives. */
  samples_per_sec: number;
  step_ms: number;
  compute_ms: number;
  bn_wait_ms: number;
  communication_ms: number;
  optimizer_ms: number;
  /**
   * CPU per step (every thread, user + system) of the coordinator process; null when a step
   * lacks it (metrics from before the processes reported their CPU).
   */
  coordinator_cpu_ms: number | null;
  /**
   * The same summed over the worker processes, each counted from one gradient to the next
   * (in a steady run the same time as the coordinator's step); null when a step lacks it (a
   * connection's first gradient, a redone step, a worker that does not report it).
   */
  workers_cpu_ms: number | null;
}

/** The means over `steps` that bench scaling and the netns summary report for a run. */
export function stepMeans(steps: ReadonlyArray<Record<string, number>>): StepMeans {
  const average = (key: string): number => mean(steps.map((r) => r[key]));
  const total = (key: string): number => steps.reduce((s, r) => s + r[key], 0);
  return {
    samples_per_sec: (1000 * total('samples')) / total('step_ms'),
    step_ms: average('step_ms'), compute_ms: average('compute_ms'), bn_wait_ms: average('bn_wait_ms'),
    communication_ms: average('communication_ms'), optimizer_ms: average('optimizer_ms'),
    coordinator_cpu_ms: meanIfAll(steps, 'coordinator_cpu_ms'), workers_cpu_ms: meanIfAll(steps, 'workers_cpu_ms'),
  };
}
