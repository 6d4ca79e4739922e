import type { NetnsRun, NetnsSummary } from './netns-summary.js';
import { scaledBatch, type ScalingMode } from './scaling-mode.js';

/**
 * A step-time model of Flotilla's synchronous parameter-server step, calibrated on a
 * measured run (`scripts/netns-bench.sh`) and used to predict other link rates and worker
 * counts. Per step, with N workers of T threads, global batch B, link rate R (payload rate
 * R·PAYLOAD_EFFICIENCY), one-way latency α, D parameter bytes out and U gradient bytes in
 * per worker:
 *
 *   compute       = a + k·B/(N·T)                             forward + backward on one thread's shard
 *   SyncBN        = rounds·(2α + f) + N·s·(1/R + h_c)          rounds barriers of s bytes per worker
 *   communication = 2α + N·(D+U)·max(1/R, h_c) + (D+U)·h_w     N copies out, N gradients in
 *   optimizer     = o + N·g                                    sum N gradients, then Adam + EMA
 *   step          = the sum; samples/s = B / step
 *
 * Assumptions:
 * - Every machine has one full-duplex link of rate R into a non-blocking switch; the
 *   coordinator's link carries all N copies out and all N gradients in. The phases of a
 *   step do not overlap (parameters, compute, gradients, optimizer), as in the code today.
 * - h_c is the coordinator's host cost per byte it sends or receives (encoding, WebSocket
 *   framing, socket copies, decoding and validation), on one thread. Over the N workers'
 *   messages the coordinator's thread and its link work as a pipeline (one copy is encoded
 *   while the previous one is on the wire), so the slower of the two sets the pace. h_w is
 *   a worker's own cost for its one message each way, before and after its transfer: it adds.
 * - h_c comes from the coordinator's CPU time per step minus the optimizer, measured with
 *   the fewest workers (CPU time does not count waiting, so it holds up when the 2-core
 *   test machine is shared); h_w is the rest of the measured communication time.
 * - TCP runs at the link rate (window ≥ bandwidth × delay, no losses); PAYLOAD_EFFICIENCY
 *   counts TCP/IP/Ethernet headers at MTU 1500.
 * - Latency is not emulated (tbf shapes the rate only), so it is a parameter: one message
 *   per direction for parameters and gradient, a round trip per SyncBN barrier. The
 *   calibration links (veth) count as zero latency; their few µs are inside f.
 * - f, the fixed cost of a SyncBN round (thread barrier, event loops, small messages), and
 *   compute come from the runs with the fewest workers: identical machines, each with its
 *   own cores, no stragglers. A real cluster adds the wait for the slowest worker at every
 *   barrier; on the 2-core test machine 2 workers share the cores with the coordinator.
 * - compute = a + k·b: with one shard size b among those runs it is proportional (a = 0),
 *   optimistic for the small shards of many workers.
 * - optimizer = o + N·g: o and g (summing one gradient) are a line through the runs' worker
 *   counts; with one count g = 0. Fitted constants are clamped at zero.
 * What-ifs with the same constants: 16-bit gradients (U = 2 bytes per parameter; the cost
 * of converting is not counted) and a ring all-reduce instead of the parameter server.
 */

/** TCP payload per byte on the wire: 1448 of 1514 (veth, tbf) to 1538 (Ethernet with preamble and gap). */
export const PAYLOAD_EFFICIENCY = 0.95;

export interface Calibration {
  /** Global batch, workers (the fewest, whose runs set compute) and threads per worker of the calibration runs. */
  batch: number;
  workers: number;
  threads: number;
  paramFloats: number;
  bufferFloats: number;
  /** SyncBN bytes per worker per step, both directions, and barriers per step. */
  bnBytes: number;
  bnRounds: number;
  /** compute = computeFixedMs + computePerSampleMs · samples per thread. */
  computeFixedMs: number;
  computePerSampleMs: number;
  /** f: fixed cost of one SyncBN round. */
  bnRoundMs: number;
  /** h_w, h_c: host cost per byte handled, at a worker and at the coordinator (ms per MB). */
  hostWorkerMsPerMB: number;
  hostCoordinatorMsPerMB: number;
  /** o and g of optimizer = o + N·g. */
  optimizerMs: number;
  sumMsPerWorker: number;
}

export interface Link {
  /** Link rate in Gbit/s; null: unlimited (host costs only). */
  gbit: number | null;
  /** One-way latency in µs. */
  latencyUs: number;
}

export interface Design {
  /** ps: the parameter server of today; ring: a ring all-reduce among the workers (each runs the optimizer). */
  allreduce: 'ps' | 'ring';
  /** Bytes per gradient value on the wire: 4 (float32) or 2 (f16/bf16). */
  gradBytes: number;
}

export const CURRENT_DESIGN: Design = { allreduce: 'ps', gradBytes: 4 };

export interface StepPrediction {
  workers: number;
  threads: number;
  batch: number;
  gbit: number | null;
  step_ms: number;
  compute_ms: number;
  bn_wait_ms: number;
  communication_ms: number;
  optimizer_ms: number;
  samples_per_sec: number;
  /** Time the busiest link spends transmitting per step (the coordinator's, for ps). */
  link_busy_ms: number;
  /** Time the busiest host thread spends on those bytes (the coordinator's, for ps). */
  host_busy_ms: number;
}

/** Least squares y = intercept + slope·x, both clamped at zero; one distinct x: proportional or constant. */
export function fitLine(xs: number[], ys: number[], single: 'proportional' | 'constant'): { intercept: number; slope: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const through0 = (): { intercept: number; slope: number } => ({
    intercept: 0, slope: Math.max(0, xs.reduce((s, x, i) => s + x * ys[i], 0) / xs.reduce((s, x) => s + x * x, 0)),
  });
  if (sxx === 0) return single === 'proportional' ? through0() : { intercept: Math.max(0, my), slope: 0 };
  const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / sxx;
  if (slope < 0) return { intercept: Math.max(0, my), slope: 0 };
  const intercept = my - slope * mx;
  return intercept < 0 ? through0() : { intercept, slope };
}

/** ms to send one payload byte at `gbit` (0 when unlimited). */
export const wireMsPerByte = (gbit: number | null): number => (gbit === null ? 0 : 8e-6 / (gbit * PAYLOAD_EFFICIENCY));

/** Fits the model's constants to the runs of one rate (zero latency: veth links). */
export function calibrate(s: NetnsSummary): Calibration {
  if (s.runs.length === 0) throw new Error(`${s.rate}: no runs to calibrate on`);
  const bytes = 2 * 4 * (s.model.params + s.model.buffers);
  const global = s.model.bn_sync === 'global';
  const bnBytes = global ? 2 * 2 * 16 * s.model.bn_channels : 0;
  const bnRounds = global ? 2 * s.model.bn_layers : 0;
  const wire = wireMsPerByte(s.bits_per_sec === null ? null : s.bits_per_sec / 1e9);
  const fewest = Math.min(...s.runs.map((r) => r.workers));
  const base = s.runs.filter((r) => r.workers === fewest);
  const avg = (runs: NetnsRun[], f: (r: NetnsRun) => number): number => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  const compute = fitLine(base.map((r) => s.batch / (r.workers * r.threads)), base.map((r) => r.compute_ms), 'proportional');
  const optimizer = fitLine(s.runs.map((r) => r.workers), s.runs.map((r) => r.optimizer_ms), 'constant');
  // Without CPU samples, all of the communication time is put on the coordinator.
  const cpu = base.filter((r) => r.coordinator_cpu_ms !== null);
  const hc = Math.max(0, cpu.length > 0
    ? avg(cpu, (r) => r.coordinator_cpu_ms! - r.optimizer_ms) / fewest / bytes
    : avg(base, (r) => r.communication_ms) / fewest / bytes);
  const hw = Math.max(0, avg(base, (r) => r.communication_ms - r.workers * bytes * Math.max(wire, hc)) / bytes);
  const bnRoundMs = bnRounds === 0 ? 0 : Math.max(0, avg(base, (r) => r.bn_wait_ms - r.workers * bnBytes * (wire + hc)) / bnRounds);
  return {
    batch: s.batch, workers: fewest, threads: base[0].threads, paramFloats: s.model.params, bufferFloats: s.model.buffers, bnBytes, bnRounds,
    computeFixedMs: compute.intercept, computePerSampleMs: compute.slope, bnRoundMs,
    hostWorkerMsPerMB: hw * 1e6, hostCoordinatorMsPerMB: hc * 1e6,
    optimizerMs: optimizer.intercept, sumMsPerWorker: optimizer.slope,
  };
}

/** Predicted mean step for `workers` workers over `link`. */
export function predictStep(
  c: Calibration, workers: number, link: Link, design: Design = CURRENT_DESIGN, batch = c.batch, threads = c.threads,
): StepPrediction {
  const wire = wireMsPerByte(link.gbit);
  const alpha = link.latencyUs / 1000;
  const hw = c.hostWorkerMsPerMB / 1e6, hc = c.hostCoordinatorMsPerMB / 1e6;
  const down = 4 * (c.paramFloats + c.bufferFloats);
  const up = design.gradBytes * c.paramFloats + 4 * c.bufferFloats;
  const compute = c.computeFixedMs + c.computePerSampleMs * (batch / (workers * threads));
  const bn = c.bnRounds * (2 * alpha + c.bnRoundMs) + workers * c.bnBytes * (wire + hc);
  // The busiest link and the busiest host thread, per step.
  let bytes: number, latency: number, optimizer: number;
  if (design.allreduce === 'ps') {
    bytes = workers * (down + up);
    latency = 2 * alpha;
    optimizer = c.optimizerMs + workers * c.sumMsPerWorker;
  } else {
    // Reduce-scatter then all-gather: 2(N−1) latency-bound hops; every worker sends and
    // receives 2(N−1)/N of the gradient over its own link, with the same per-byte costs and
    // the same overlap rule as the coordinator. Each worker sums (N−1)/N of a gradient and
    // runs the optimizer itself; nothing else is sent.
    bytes = (2 * (workers - 1) / workers) * up;
    latency = 2 * (workers - 1) * alpha;
    optimizer = c.optimizerMs + ((workers - 1) / workers) * c.sumMsPerWorker;
  }
  const linkBusy = bytes * wire, hostBusy = bytes * hc;
  const communication = latency + Math.max(linkBusy, hostBusy) + (design.allreduce === 'ps' ? down + up : bytes) * hw;
  const step = compute + bn + communication + optimizer;
  return {
    workers, threads, batch, gbit: link.gbit, step_ms: step, compute_ms: compute, bn_wait_ms: bn,
    communication_ms: communication, optimizer_ms: optimizer, samples_per_sec: (1000 * batch) / step,
    link_busy_ms: linkBusy, host_busy_ms: hostBusy,
  };
}

/**
 * Predictions for every link rate × worker count (each worker with the calibration's
 * threads). Strong scaling splits the global batch `batch` over them all; weak scaling gives
 * every thread `batch` rows, so the global batch grows with the workers (scaledBatch).
 */
export function predictGrid(
  c: Calibration, rates: readonly number[], workerCounts: readonly number[], latencyUs: number, design: Design, batch: number, mode: ScalingMode,
): StepPrediction[] {
  return rates.flatMap((gbit) => workerCounts.map((workers) =>
    predictStep(c, workers, { gbit, latencyUs }, design, scaledBatch(batch, { workers, threads: c.threads }, mode))));
}

/**
 * --batch when not given: the calibration's global batch (strong scaling), or the rows one
 * thread computed in the calibration runs that set the compute constants (weak).
 */
export function defaultPredictBatch(c: Calibration, mode: ScalingMode): number {
  return mode === 'weak' ? Math.max(1, Math.round(c.batch / (c.workers * c.threads))) : c.batch;
}

/** Predicted against measured for each run of a summary (its own rate, zero latency). */
export function checkAgainst(c: Calibration, measured: NetnsSummary): Array<{ measured: NetnsRun; predicted: StepPrediction }> {
  const gbit = measured.bits_per_sec === null ? null : measured.bits_per_sec / 1e9;
  return measured.runs.map((r) => ({ measured: r, predicted: predictStep(c, r.workers, { gbit, latencyUs: 0 }, CURRENT_DESIGN, measured.batch, r.threads) }));
}

const f1 = (x: number): string => x.toFixed(1);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function calibrationText(c: Calibration): string {
  return `compute ${c.computeFixedMs.toFixed(2)} ms + ${(c.computePerSampleMs * 1000).toFixed(1)} µs/sample; SyncBN ${c.bnRounds} rounds of ` +
    `${c.bnRoundMs.toFixed(2)} ms + ${(c.bnBytes / 1e3).toFixed(1)} kB/worker; ` +
    `${(8 * (c.paramFloats + c.bufferFloats) / 1e6).toFixed(2)} MB parameters + gradient per worker; host ${c.hostWorkerMsPerMB.toFixed(2)} ms/MB at a worker, ` +
    `${c.hostCoordinatorMsPerMB.toFixed(2)} ms/MB per worker at the coordinator; optimizer ${c.optimizerMs.toFixed(2)} ms + ${c.sumMsPerWorker.toFixed(2)} ms/worker`;
}

export function checkTable(rows: ReturnType<typeof checkAgainst>, rate: string): string {
  return [
    `${rate}, measured → predicted (ms):`,
    '| workers | step | compute | SyncBN wait | communication | optimizer | samples/s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(({ measured: m, predicted: p }) => `| ${m.workers} × ${m.threads} | ${f1(m.step_ms)} → ${f1(p.step_ms)} | ${f1(m.compute_ms)} → ${f1(p.compute_ms)} | ` +
      `${f1(m.bn_wait_ms)} → ${f1(p.bn_wait_ms)} | ${f1(m.communication_ms)} → ${f1(p.communication_ms)} | ${f1(m.optimizer_ms)} → ${f1(p.optimizer_ms)} | ` +
      `${int(m.samples_per_sec)} → ${int(p.samples_per_sec)} |`),
  ].join('\n');
}

export function predictionTable(rows: StepPrediction[]): string {
  return [
    '| link | workers | global batch | step | compute | SyncBN | communication | optimizer | samples/s | busiest link, host thread |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((p) => `| ${p.gbit === null ? 'unlimited' : `${p.gbit} Gbit/s`} | ${p.workers} | ${p.batch} | ${f1(p.step_ms)} | ${f1(p.compute_ms)} | ${f1(p.bn_wait_ms)} | ` +
      `${f1(p.communication_ms)} | ${f1(p.optimizer_ms)} | ${int(p.samples_per_sec)} | ${f1(p.link_busy_ms)}, ${f1(p.host_busy_ms)} |`),
  ].join('\n');
}
