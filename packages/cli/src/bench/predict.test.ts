import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NetnsSummary } from './netns-summary.js';
import { readNetnsSummary, summarizeNetnsRuns } from './netns-summary.js';
import { calibrate, checkAgainst, CURRENT_DESIGN, defaultPredictBatch, fitLine, predictGrid, predictStep, type Calibration } from './predict.js';
import { scaledBatch } from './scaling-mode.js';

/** Round numbers, so the expected values below can be worked out by hand. */
const CAL: Calibration = {
  batch: 256, workers: 1, threads: 1, paramFloats: 1e6, bufferFloats: 0, bnBytes: 50_000, bnRounds: 4,
  computeFixedMs: 2, computePerSampleMs: 0.25, bnRoundMs: 0.5,
  hostWorkerMsPerMB: 2, hostCoordinatorMsPerMB: 3, optimizerMs: 5, sumMsPerWorker: 1,
};

describe('the step-time model', () => {
  it('predicts a parameter-server step at 10 Gbit/s and 8 workers as worked out by hand', () => {
    const p = predictStep(CAL, 8, { gbit: 10, latencyUs: 50 });
    // One payload byte at 10 Gbit/s with 95% payload efficiency: 8 bits / 9.5e9 bit/s = 8.421e-7 ms.
    // compute: 2 + 0.25 · 256/8 = 10 ms.
    expect(p.compute_ms).toBeCloseTo(10, 9);
    // SyncBN: 4 · (2 · 0.05 + 0.5) + 8 · 50,000 B · (8.421e-7 + 3e-6) ms/B = 2.4 + 1.5368 ms.
    expect(p.bn_wait_ms).toBeCloseTo(3.936842, 5);
    // Parameters + gradient: 8 MB per worker, 64 MB through the coordinator: 53.895 ms on its
    // link, 64 · 3 = 192 ms on its thread (the slower sets the pace); each worker's own
    // 8 MB · 2 ms/MB = 16 ms; latency 2 · 0.05 ms.
    expect(p.link_busy_ms).toBeCloseTo(53.894737, 5);
    expect(p.host_busy_ms).toBeCloseTo(192, 9);
    expect(p.communication_ms).toBeCloseTo(0.1 + 192 + 16, 9);
    // optimizer: 5 + 8 · 1 ms.
    expect(p.optimizer_ms).toBeCloseTo(13, 9);
    expect(p.step_ms).toBeCloseTo(10 + 3.936842 + 208.1 + 13, 5);
    expect(p.samples_per_sec).toBeCloseTo(256_000 / 235.036842, 3);
  });

  it('predicts a grid of rates × worker counts, the global batch split (strong) or growing with the workers (weak)', () => {
    const strong = predictGrid(CAL, [1, 10], [8, 16], 50, CURRENT_DESIGN, 256, 'strong');
    expect(strong.map((p) => [p.gbit, p.workers, p.batch])).toEqual([[1, 8, 256], [1, 16, 256], [10, 8, 256], [10, 16, 256]]);
    expect(strong[2]).toEqual(predictStep(CAL, 8, { gbit: 10, latencyUs: 50 })); // the case worked out above
    const weak = predictGrid(CAL, [10], [8, 16], 50, CURRENT_DESIGN, 256, 'weak');
    // 256 rows for each of the 8 (16) one-thread workers: 2048 (4096) in all, and each
    // worker computes 2 + 0.25 · 256 = 66 ms whatever the count.
    expect(weak.map((p) => p.batch)).toEqual([2048, 4096]);
    for (const p of weak) expect(p.compute_ms).toBeCloseTo(66, 9);
    // The rest of the 8-worker step is the strong one's (SyncBN, communication, optimizer):
    // 3.936842 + 208.1 + 13 ms, so 2048 samples in 291.036842 ms.
    expect(weak[0].step_ms).toBeCloseTo(66 + 3.936842 + 208.1 + 13, 5);
    expect(weak[0].samples_per_sec).toBeCloseTo(2_048_000 / 291.036842, 3);
    // Two threads per worker: 256 rows for each of 16 threads, 4096 in all; each thread's shard is still 256.
    const twoThreads = predictGrid({ ...CAL, threads: 2 }, [10], [8], 50, CURRENT_DESIGN, 256, 'weak');
    expect(twoThreads[0].batch).toBe(4096);
    expect(twoThreads[0].compute_ms).toBeCloseTo(66, 9);
  });

  it('scales --batch per topology: kept (strong) or times workers × threads (weak)', () => {
    expect(scaledBatch(60, { workers: 2, threads: 3 }, 'strong')).toBe(60);
    expect(scaledBatch(60, { workers: 2, threads: 3 }, 'weak')).toBe(360);
  });

  it('defaults --batch to the calibration\'s global batch, or with --weak to one thread\'s rows in the runs that set compute', () => {
    expect(defaultPredictBatch(CAL, 'strong')).toBe(256);
    expect(defaultPredictBatch(CAL, 'weak')).toBe(256); // 1 worker × 1 thread computed all 256
    expect(defaultPredictBatch({ ...CAL, workers: 2 }, 'weak')).toBe(128); // calibrated on 2 workers: 128 rows each
    expect(defaultPredictBatch({ ...CAL, workers: 1, threads: 3 }, 'weak')).toBe(85); // 256 / 3, to whole rows
  });

  it('is link-bound at 1 Gbit/s', () => {
    const p = predictStep(CAL, 8, { gbit: 1, latencyUs: 50 });
    // 64 MB · 8.421e-6 ms/B = 538.947 ms on the coordinator's link, more than its 192 ms of CPU.
    expect(p.link_busy_ms).toBeCloseTo(538.947368, 5);
    expect(p.communication_ms).toBeCloseTo(0.1 + 538.947368 + 16, 5);
  });

  it('predicts the ring all-reduce with 16-bit gradients as worked out by hand', () => {
    const p = predictStep(CAL, 8, { gbit: 10, latencyUs: 50 }, { allreduce: 'ring', gradBytes: 2 });
    // Gradient 2 MB; each worker sends and receives 2 · 7/8 · 2 MB = 3.5 MB: 2.947 ms on its
    // link, 10.5 ms on its thread at 3 ms/MB, plus 3.5 · 2 = 7 ms, plus 14 hops of 0.05 ms.
    expect(p.link_busy_ms).toBeCloseTo(2.947368, 5);
    expect(p.communication_ms).toBeCloseTo(0.7 + 10.5 + 7, 9);
    expect(p.optimizer_ms).toBeCloseTo(5 + 7 / 8, 9);
    expect(p.step_ms).toBeCloseTo(10 + 3.936842 + 18.2 + 5.875, 5);
  });

  it('has no link term on unlimited links and no latency at 0 µs', () => {
    const p = predictStep(CAL, 1, { gbit: null, latencyUs: 0 });
    expect(p.link_busy_ms).toBe(0);
    expect(p.communication_ms).toBeCloseTo(8 * (2 + 3), 9);
    expect(p.bn_wait_ms).toBeCloseTo(4 * 0.5 + 50_000 * 3e-6, 9);
    expect(p.compute_ms).toBeCloseTo(2 + 0.25 * 256, 9);
  });

  it('fits lines with non-negative constants', () => {
    expect(fitLine([1, 2, 3], [3, 5, 7], 'constant')).toEqual({ intercept: 1, slope: 2 });
    expect(fitLine([1, 2], [5, 4], 'constant')).toEqual({ intercept: 4.5, slope: 0 });
    const through0 = fitLine([1, 2], [1, 3], 'constant'); // intercept would be −1
    expect(through0.intercept).toBe(0);
    expect(through0.slope).toBeCloseTo(7 / 5, 12);
    expect(fitLine([4, 4], [8, 10], 'proportional')).toEqual({ intercept: 0, slope: 18 / 8 });
    expect(fitLine([4], [8], 'constant')).toEqual({ intercept: 8, slope: 0 });
  });

  it('recovers its constants from runs it generated', () => {
    for (const gbit of [1, null]) {
      const cal: Calibration = { ...CAL, computeFixedMs: 0, paramFloats: 500_000, bufferFloats: 1000, bnBytes: 2 * 2 * 16 * 768, bnRounds: 4 };
      const bytes = 8 * 501_000;
      const runs = [1, 2].map((w) => {
        const p = predictStep(cal, w, { gbit, latencyUs: 0 });
        return { workers: w, threads: 1, steps: 30, samples_per_sec: p.samples_per_sec, step_ms: p.step_ms, compute_ms: p.compute_ms, bn_wait_ms: p.bn_wait_ms,
          communication_ms: p.communication_ms, optimizer_ms: p.optimizer_ms, coordinator_link_bytes_per_step: NaN, drops: 0,
          coordinator_cpu_ms: p.optimizer_ms + w * bytes * 3e-6, worker_cpu_ms: null };
      });
      const summary: NetnsSummary = { rate: String(gbit), bits_per_sec: gbit === null ? null : gbit * 1e9, batch: 256, warmup: 5,
        model: { params: 500_000, buffers: 1000, bn_layers: 2, bn_channels: 768, bn_sync: 'global' }, runs };
      const back = calibrate(summary);
      for (const key of Object.keys(cal) as Array<keyof Calibration>) expect(back[key], key).toBeCloseTo(cal[key], 6);
      for (const { measured, predicted } of checkAgainst(back, summary)) expect(predicted.step_ms).toBeCloseTo(measured.step_ms, 6);
    }
  });

  it('calibrates on one run: compute proportional to the shard, the coordinator\'s share from its CPU time', () => {
    const run = { workers: 1, threads: 2, steps: 10, samples_per_sec: 0, step_ms: 0, compute_ms: 40, bn_wait_ms: 3, communication_ms: 16, optimizer_ms: 6,
      coordinator_link_bytes_per_step: NaN, drops: 0, coordinator_cpu_ms: 18, worker_cpu_ms: null };
    const summary: NetnsSummary = { rate: 'unlimited', bits_per_sec: null, batch: 100, warmup: 0,
      model: { params: 1e6, buffers: 0, bn_layers: 1, bn_channels: 100, bn_sync: 'global' }, runs: [run] };
    const c = calibrate(summary);
    expect(c.computeFixedMs).toBe(0);
    expect(c.computePerSampleMs).toBeCloseTo(40 / 50, 12); // 50 samples per thread
    // 8 MB per step; the coordinator's CPU outside the optimizer, 18 − 6 = 12 ms, is its share,
    // the rest of the 16 ms of communication the worker's.
    expect(c.hostCoordinatorMsPerMB).toBeCloseTo(12 / 8, 12);
    expect(c.hostWorkerMsPerMB).toBeCloseTo(4 / 8, 12);
    // 2 rounds; SyncBN bytes 2·2·16·100 = 6,400 at 1.5 ms/MB: (3 − 0.0096) / 2 ms per round.
    expect(c.bnRoundMs).toBeCloseTo((3 - 0.0096) / 2, 12);
    expect(c.optimizerMs).toBe(6);
    expect(c.sumMsPerWorker).toBe(0);
    // Without CPU samples the coordinator gets all of it.
    const noCpu = calibrate({ ...summary, runs: [{ ...run, coordinator_cpu_ms: null }] });
    expect(noCpu.hostCoordinatorMsPerMB).toBeCloseTo(2, 12);
    expect(noCpu.hostWorkerMsPerMB).toBe(0);
  });
});

describe('netns-bench summaries', () => {
  it('average the timed steps and read the model from config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-netns-summary-'));
    mkdirSync(join(dir, 'run'));
    const model = { input: [4], layers: [{ type: 'linear', out: 3 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'linear', out: 2 }] };
    writeFileSync(join(dir, 'run', 'config.json'), JSON.stringify({ model, batch: 8, bnSync: 'global' }));
    const step = (i: number, ms: number): string => JSON.stringify({
      kind: 'step', step: i, samples: 8, step_ms: ms, compute_ms: ms / 2, bn_wait_ms: 1, communication_ms: ms / 4, optimizer_ms: 2,
      coordinator_cpu_ms: ms / 5, workers_cpu_ms: ms,
    });
    writeFileSync(join(dir, 'run', 'metrics.jsonl'), [step(0, 1000), step(1, 10), step(2, 30), JSON.stringify({ kind: 'epoch', epoch: 1 })].join('\n'));
    writeFileSync(join(dir, 'link.json'), JSON.stringify({ workers: 2, threads: 1, coordinator_tx_bytes: 600, coordinator_rx_bytes: 300, drops: 0 }));
    const s = summarizeNetnsRuns([dir], { rate: '1gbit', bitsPerSec: 1e9, warmup: 1 });
    expect(s.batch).toBe(8);
    // linear 4→3 with bias (15), BatchNorm γ, β (6), linear 3→2 (8); BatchNorm running mean and variance (6).
    expect(s.model).toEqual({ params: 29, buffers: 6, bn_layers: 1, bn_channels: 3, bn_sync: 'global' });
    const r = s.runs[0];
    expect(r.steps).toBe(2);
    expect(r.step_ms).toBe(20);
    expect(r.compute_ms).toBe(10);
    expect(r.samples_per_sec).toBeCloseTo(16_000 / 40, 9);
    expect(r.coordinator_link_bytes_per_step).toBe(300); // 900 bytes over all 3 steps
    // CPU from the processes' own reports: the coordinator's mean, and the 2 workers' sum halved.
    expect(r.coordinator_cpu_ms).toBe(4);
    expect(r.worker_cpu_ms).toBe(10);
    // A run folder from before the processes reported CPU: unknown, not zero.
    writeFileSync(join(dir, 'run', 'metrics.jsonl'), [step(0, 1000), JSON.stringify({ ...JSON.parse(step(1, 10)), workers_cpu_ms: undefined })].join('\n'));
    expect(summarizeNetnsRuns([dir], { rate: '1gbit', bitsPerSec: 1e9, warmup: 1 }).runs[0]).toMatchObject({ coordinator_cpu_ms: 2, worker_cpu_ms: null });
  });

  it('are read back as written, and a wrong or damaged file is refused naming what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-netns-read-'));
    const good: NetnsSummary = {
      rate: '1gbit', bits_per_sec: 1e9, batch: 256, warmup: 20,
      model: { params: 536_586, buffers: 1_536, bn_layers: 2, bn_channels: 768, bn_sync: 'global' },
      runs: [{
        workers: 1, threads: 1, steps: 30, samples_per_sec: 4436, step_ms: 57.7, compute_ms: 20.9, bn_wait_ms: 0.2, communication_ms: 34.6,
        optimizer_ms: 2, coordinator_link_bytes_per_step: 4.36e6, drops: 0, coordinator_cpu_ms: 8.9, worker_cpu_ms: null,
      }],
    };
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    expect(readNetnsSummary(file('good.json', JSON.stringify(good)))).toEqual(good);
    const bad = (text: string): string => {
      const path = file('bad.json', text);
      expect(() => readNetnsSummary(path)).toThrow(`${path} is not a netns-bench summary`);
      try { readNetnsSummary(path); } catch (error) { return (error as Error).message; }
      return '';
    };
    expect(bad('{"rate": "1gbit", ')).toMatch(/not JSON/);
    expect(bad('[1, 2]')).toMatch(/expected a JSON object/);
    expect(bad(JSON.stringify({ ...good, runs: [] }))).toMatch(/"runs" must be a non-empty array/);
    expect(bad(JSON.stringify({ ...good, batch: 0 }))).toMatch(/"batch" must be a number ≥ 1, got 0/);
    expect(bad(JSON.stringify({ ...good, model: { ...good.model, bn_sync: 'sometimes' } }))).toMatch(/model\."bn_sync" must be "global" or "local"/);
    expect(bad(JSON.stringify({ ...good, runs: [{ ...good.runs[0], compute_ms: 'fast' }] }))).toMatch(/runs\[0\]\."compute_ms" must be a number ≥ 0, got "fast"/);
    expect(bad(JSON.stringify({ ...good, runs: [{ ...good.runs[0], workers: null }] }))).toMatch(/runs\[0\]\."workers" must be a number ≥ 1, got null/);
    expect(() => readNetnsSummary(join(dir, 'missing.json'))).toThrow(/cannot read .*missing\.json: ENOENT/);
  });
});
