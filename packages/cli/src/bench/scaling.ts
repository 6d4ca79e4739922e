import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchNorm, buildModel } from '@flotilla/core';
import { RunDir, type RunConfig } from '@flotilla/coordinator';
import { lineChartSvg, type Series } from '../charts/line-chart.js';
import { runDistributedTraining } from '../train/distributed-run.js';
import { wireWidth } from '@flotilla/protocol';
import { formatCores, usableCores } from './cores.js';
import { describeBatch, scaledBatch, type ScalingMode, type Topology } from './scaling-mode.js';
import { median, quantile } from './stats.js';
import { stepMeans, type StepMeans } from './step-means.js';

/** A topology's run: StepMeans over its timed steps, and what bench scaling adds. */
export interface ScalingRun extends Topology, StepMeans {
  /** The run's global batch: --batch (strong scaling), or --batch × workers × threads (weak). */
  batch: number;
  /** samples/s ÷ (total threads × samples/s of 1 worker × 1 thread). */
  efficiency: number;
  oversubscribed: boolean;
  steps: number;
  /** The median step and the 90th percentile, beside the mean step_ms samples/s follows from. */
  step_ms_median: number;
  step_ms_p90: number;
  /** Payload bytes crossing the sockets per step (parameters out, gradients in, SyncBN rounds). */
  wire_bytes_per_step: number;
  /**
   * (coordinator + workers) CPU per step ÷ the machine's cores: the shortest step these
   * processes could take here if nothing ever waited. A step near it is bound by CPU; one
   * well above it by waiting (SyncBN, transfers, the parameter server's turn).
   */
  cpu_floor_ms: number | null;
  /**
   * samples/s of every run of this topology, in the order they ran (--repeats); the fields
   * above are those of the median run, and efficiency is against the median 1 × 1 run.
   */
  samples_per_sec_runs: number[];
}

type Measured = Omit<ScalingRun, 'efficiency' | 'samples_per_sec_runs'>;

/** What a scaling benchmark reports: scaling.json, and the --json line. */
export interface ScalingReport {
  matmul?: string;
  scaling: ScalingMode;
  repeats: number;
  /** The cores the runs shared (usableCores: the CPUs, capped by a cgroup quota), which cpu_floor_ms divides by. */
  cores: number;
  runs: ScalingRun[];
}

/**
 * Payload bytes per step for N workers: params+buffers out (float32), gradient (float32, or
 * 16-bit with --grad-dtype) + buffers back, and with global SyncBN across more than one
 * worker 2 rounds per BatchNorm each way (a lone worker skips them).
 */
export function wireBytes(config: RunConfig, workers: number): number {
  const model = buildModel(config.model);
  const params = model.params.length, buffers = model.buffers.length;
  const bnChannels = model.modules.filter((m): m is BatchNorm => m instanceof BatchNorm).reduce((s, m) => s + m.channels, 0);
  const bn = config.bnSync === 'global' && workers > 1 ? 2 * 2 * 16 * bnChannels : 0;
  return workers * (4 * (params + buffers) + wireWidth(config.gradDtype) * params + 4 * buffers + bn);
}

/** One training run of topology `t` in `dir` (made afresh), measured over its steps from `warmup` on. */
async function measureRun(config: RunConfig, t: Topology, dir: string, warmup: number, timeline: boolean, cores: number): Promise<Measured> {
  // The folder is this benchmark's own output: start it afresh, or the averages below would
  // take in the steps of every earlier run into the same --out.
  rmSync(dir, { recursive: true, force: true });
  await runDistributedTraining(config, { ...t, ...(timeline ? { timeline: { from: warmup, to: Infinity } } : {}) }, new RunDir(dir), () => {});
  const steps = RunDir.stepsIn(dir).filter((r) => r.step >= warmup);
  const means = stepMeans(steps);
  const stepMs = steps.map((r) => r.step_ms);
  const { coordinator_cpu_ms: coordinatorCpu, workers_cpu_ms: workersCpu } = means;
  return {
    ...t, batch: config.batch, ...means, oversubscribed: t.workers * t.threads > cores, steps: steps.length,
    step_ms_median: median(stepMs), step_ms_p90: quantile(stepMs, 0.9), wire_bytes_per_step: wireBytes(config, t.workers),
    cpu_floor_ms: coordinatorCpu === null || workersCpu === null ? null : (coordinatorCpu + workersCpu) / cores,
  };
}

/**
 * Real training runs (coordinator here, workers as processes on loopback) for each
 * topology; throughput and the step-time breakdown come from the runs' metrics.jsonl,
 * skipping warm-up steps while V8 optimises. With `repeats` > 1 the topologies run in
 * turn that many times (1x1, 2x1, 1x1, 2x1, ...: a machine whose speed drifts, as a VM's
 * does, then moves every topology alike), each into a folder of its own, and each
 * topology reports its median run with the spread of all of them.
 */
export async function benchScaling(
  config: RunConfig, topologies: Topology[],
  /** `timeline`: also record each run's timed steps in its folder's timeline.json (for flotilla timeline). */
  options: { warmup: number; outDir: string; log: (line: string) => void; matmul?: string; timeline?: boolean; repeats?: number; mode?: ScalingMode },
): Promise<ScalingReport> {
  const mode = options.mode ?? 'strong';
  const cores = usableCores();
  const repeats = options.repeats ?? 1;
  const measured: Measured[][] = topologies.map(() => []);
  for (let r = 0; r < repeats; r++) {
    for (const [i, t] of topologies.entries()) {
      const name = `${t.workers}x${t.threads}`;
      const run = await measureRun({ ...config, batch: scaledBatch(config.batch, t, mode) }, t, join(options.outDir, repeats > 1 ? `${name}-run${r + 1}` : name), options.warmup, options.timeline ?? false, cores);
      measured[i].push(run);
      options.log(`${t.workers} worker(s) × ${t.threads} thread(s)${repeats > 1 ? `, run ${r + 1} of ${repeats}` : ''}${mode === 'weak' ? `, batch ${run.batch}` : ''}: ${Math.round(run.samples_per_sec)} samples/s` +
        `${run.oversubscribed ? ` (oversubscribed: ${t.workers * t.threads} threads on ${formatCores(cores)} cores)` : ''}; step ${run.step_ms.toFixed(1)} ms = ` +
        `compute ${run.compute_ms.toFixed(1)} + BatchNorm sync wait ${run.bn_wait_ms.toFixed(1)} + communication ${run.communication_ms.toFixed(1)} + ` +
        `optimizer ${run.optimizer_ms.toFixed(1)} on average (median step ${run.step_ms_median.toFixed(1)} ms, 90th percentile ${run.step_ms_p90.toFixed(1)}); ` +
        `${(run.wire_bytes_per_step / 1e6).toFixed(1)} MB on the wire per step${cpuNote(run, cores)}`);
    }
  }
  const typical = measured.map((list) => {
    const middle = median(list.map((m) => m.samples_per_sec));
    return { ...list.find((m) => m.samples_per_sec === middle)!, samples_per_sec_runs: list.map((m) => m.samples_per_sec) };
  });
  const base = typical.find((m) => m.workers === 1 && m.threads === 1)?.samples_per_sec ?? NaN;
  const runs: ScalingRun[] = typical.map((m) => ({ ...m, efficiency: m.samples_per_sec / (base * m.workers * m.threads) }));
  options.log('');
  options.log(`${repeats > 1 ? `Each topology's median run of ${repeats} (the range of all in brackets); ` : ''}step times in ms, the breakdown per step on average:`);
  options.log(scalingTable(runs));
  const report: ScalingReport = { ...(options.matmul ? { matmul: options.matmul } : {}), scaling: mode, repeats, cores, runs };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'scaling.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'scaling.svg'), scalingChart(runs, { mode, batch: config.batch, matmul: options.matmul }));
  options.log(`wrote ${join(options.outDir, 'scaling.json')} and scaling.svg`);
  return report;
}

/** "; CPU per step: ..." for a run's log line (nothing when a worker did not report its CPU). */
export function cpuNote(run: Pick<ScalingRun, 'coordinator_cpu_ms' | 'workers_cpu_ms' | 'cpu_floor_ms'>, cores: number): string {
  if (run.coordinator_cpu_ms === null || run.workers_cpu_ms === null || run.cpu_floor_ms === null) return '';
  return `; CPU per step: coordinator ${run.coordinator_cpu_ms.toFixed(1)} ms + workers ${run.workers_cpu_ms.toFixed(1)} ms over ${formatCores(cores)} cores, ` +
    `so no step could take under ${run.cpu_floor_ms.toFixed(1)} ms here`;
}

/** The runs as a Markdown table, as docs/measured.md shows them; efficiency n/a without a 1 × 1 run. */
export function scalingTable(runs: readonly ScalingRun[]): string {
  const int = (x: number): string => Math.round(x).toLocaleString('en-US');
  const f1 = (x: number): string => x.toFixed(1);
  const orDash = (x: number | null): string => (x === null ? '–' : f1(x));
  return [
    '| workers × threads | global batch | samples/s | efficiency | step: mean | median | 90th pct. | compute | SyncBN wait | communication | optimizer | MB on the wire | CPU: coordinator | workers | floor |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map((r) => {
      const spread = r.samples_per_sec_runs.length > 1 ? ` (${int(Math.min(...r.samples_per_sec_runs))}–${int(Math.max(...r.samples_per_sec_runs))})` : '';
      return `| ${r.workers} × ${r.threads}${r.oversubscribed ? ' (oversubscribed)' : ''} | ${r.batch} | ${int(r.samples_per_sec)}${spread} | ` +
        `${Number.isFinite(r.efficiency) ? r.efficiency.toFixed(2) : 'n/a'} | ${f1(r.step_ms)} | ${f1(r.step_ms_median)} | ${f1(r.step_ms_p90)} | ` +
        `${f1(r.compute_ms)} | ${f1(r.bn_wait_ms)} | ${f1(r.communication_ms)} | ${f1(r.optimizer_ms)} | ${(r.wire_bytes_per_step / 1e6).toFixed(1)} | ` +
        `${orDash(r.coordinator_cpu_ms)} | ${orDash(r.workers_cpu_ms)} | ${orDash(r.cpu_floor_ms)} |`;
    }),
  ].join('\n');
}

/**
 * Throughput (left axis) and efficiency (right axis) against total threads, one line per way
 * of adding threads (more threads in one worker, more one-thread workers, both), so 1 × 2
 * and 2 × 1 stay apart; repeated runs add a whisker for their spread.
 */
export function scalingChart(runs: ScalingRun[], how: { mode: ScalingMode; batch: number; matmul?: string }): string {
  const families = [
    { label: '1 worker × T threads', blue: '#1f77b4', red: '#d62728', has: (r: ScalingRun) => r.workers === 1 },
    { label: 'W workers × 1 thread', blue: '#17becf', red: '#ff7f0e', has: (r: ScalingRun) => r.threads === 1 },
    { label: 'W workers × T threads', blue: '#7f7f7f', red: '#8c564b', has: (r: ScalingRun) => r.workers > 1 && r.threads > 1 },
  ];
  const series: Series[] = [];
  for (const f of families) {
    const members = runs.filter(f.has).sort((a, b) => a.workers * a.threads - b.workers * b.threads);
    if (members.length === 0 || (members.length === 1 && members[0].workers * members[0].threads === 1)) continue;
    // With --repeats, a whisker from the slowest run to the fastest through each median.
    const ranges = members.map((r): [number, number] | null => (r.samples_per_sec_runs.length > 1 ? [Math.min(...r.samples_per_sec_runs), Math.max(...r.samples_per_sec_runs)] : null));
    series.push({ name: `samples/s, ${f.label}`, color: f.blue, points: members.map((r) => [r.workers * r.threads, r.samples_per_sec]), ranges });
    const efficient = members.filter((r) => Number.isFinite(r.efficiency));
    if (efficient.length > 0) series.push({ name: `efficiency, ${f.label}`, color: f.red, right: true, points: efficient.map((r) => [r.workers * r.threads, r.efficiency]) });
    // Where the efficiency would be if no step waited (see efficiencyIfNoWaiting).
    const bounded = efficient.filter((r) => Number.isFinite(efficiencyIfNoWaiting(r)));
    if (bounded.length > 0) {
      series.push({
        name: `efficiency if no step waited, ${f.label}`, color: f.red, right: true, dashed: true,
        points: bounded.map((r) => [r.workers * r.threads, efficiencyIfNoWaiting(r)]),
      });
    }
  }
  // The kernel too: the same topologies on another matmul kernel scale quite differently.
  const title = `Data-parallel scaling, ${describeBatch(how.batch, how.mode)}${how.matmul ? `, matmul ${how.matmul}` : ''}`;
  return lineChartSvg(series, { title, xLabel: 'total threads (workers × threads)', yLabel: 'samples/s', yRightLabel: 'scaling efficiency' });
}

/**
 * The efficiency a run would have if none of its steps waited: each would then take the
 * longer of its CPU floor (the processes' CPU over the cores) and its longest thread's
 * compute (one thread cannot use two cores), and samples/s scale as 1 / step for the same
 * batch. The gap to the measured efficiency is waiting; the line's own fall is work that more
 * workers or threads add. NaN without a floor.
 */
export function efficiencyIfNoWaiting(run: Pick<ScalingRun, 'efficiency' | 'step_ms' | 'cpu_floor_ms' | 'compute_ms'>): number {
  if (run.cpu_floor_ms === null) return NaN;
  const bound = Math.max(run.cpu_floor_ms, run.compute_ms);
  return bound > 0 ? (run.efficiency * run.step_ms) / bound : NaN;
}

/** "1x1,1x2,2x1" or the grid of --workers × --threads. */
export function parseTopologies(spec: string | undefined, workers: string, threads: string): Topology[] {
  const ints = (s: string, what: string): number[] => s.split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid ${what}: ${v} (expected positive integers, comma-separated)`);
    return n;
  });
  if (spec) {
    return spec.split(',').map((t) => {
      const m = /^(\d+)x(\d+)$/.exec(t.trim());
      if (!m) throw new Error(`Invalid topology "${t}" (expected WORKERSxTHREADS, e.g. 2x1)`);
      return { workers: Number(m[1]), threads: Number(m[2]) };
    });
  }
  const list = ints(workers, '--workers').flatMap((w) => ints(threads, '--threads').map((t) => ({ workers: w, threads: t })));
  // 1x1 first: it is the baseline of the efficiencies.
  return [{ workers: 1, threads: 1 }, ...list.filter((t) => t.workers * t.threads !== 1)];
}
