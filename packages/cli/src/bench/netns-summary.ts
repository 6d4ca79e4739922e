import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchNorm, buildModel } from '@flotilla/core';
import { RunDir, type RunConfig } from '@flotilla/coordinator';
import { stepMeans, type StepMeans } from './step-means.js';

/** One worker count of `scripts/netns-bench.sh`: means per timed step (StepMeans, with one worker's CPU instead of their sum). */
export interface NetnsRun extends Omit<StepMeans, 'workers_cpu_ms'> {
  workers: number;
  threads: number;
  steps: number;
  /** Bytes through the coordinator's NIC (both directions, Ethernet frames) ÷ all steps of the run. */
  coordinator_link_bytes_per_step: number;
  /** Packets the tbf shapers on the coordinator's link dropped during the run. */
  drops: number;
  /** CPU time (all threads) per timed step of one worker process on average; null as StepMeans'. */
  worker_cpu_ms: number | null;
}

/** What `scripts/netns-bench.sh` writes to OUT/<rate>.json; the input of `flotilla bench predict`. */
export interface NetnsSummary {
  rate: string;
  /** The tbf rate of every link; null: unshaped veth links. */
  bits_per_sec: number | null;
  batch: number;
  warmup: number;
  /** Float32 counts of the model and its SyncBN layout. */
  model: { params: number; buffers: number; bn_layers: number; bn_channels: number; bn_sync: 'global' | 'local' };
  runs: NetnsRun[];
}

/**
 * Summarises the run folders of one rate (each holding run/metrics.jsonl, run/config.json
 * and the script's link.json): step-time breakdown averaged over the steps after warm-up.
 */
export function summarizeNetnsRuns(dirs: string[], meta: { rate: string; bitsPerSec: number | null; warmup: number }): NetnsSummary {
  let config: RunConfig | null = null;
  const runs = dirs.map((dir): NetnsRun => {
    config = JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8')) as RunConfig;
    const all = RunDir.stepsIn(join(dir, 'run'));
    const steps = all.filter((r) => r.step >= meta.warmup);
    if (steps.length === 0) throw new Error(`${dir}: no steps after the ${meta.warmup} warm-up steps`);
    const link = existsSync(join(dir, 'link.json'))
      ? JSON.parse(readFileSync(join(dir, 'link.json'), 'utf8')) as {
        workers: number; threads: number; coordinator_tx_bytes: number; coordinator_rx_bytes: number; drops: number;
      }
      : null;
    const { workers_cpu_ms: workersCpu, ...means } = stepMeans(steps);
    return {
      workers: link?.workers ?? NaN, threads: link?.threads ?? NaN, steps: steps.length, ...means,
      coordinator_link_bytes_per_step: link ? (link.coordinator_tx_bytes + link.coordinator_rx_bytes) / all.length : NaN,
      drops: link?.drops ?? 0,
      worker_cpu_ms: workersCpu === null || !link ? null : workersCpu / link.workers,
    };
  });
  if (!config) throw new Error('no runs to summarise');
  const cfg = config as RunConfig;
  const model = buildModel(cfg.model);
  const bns = model.modules.filter((m): m is BatchNorm => m instanceof BatchNorm);
  return {
    rate: meta.rate, bits_per_sec: meta.bitsPerSec, batch: cfg.batch, warmup: meta.warmup,
    model: {
      params: model.params.length, buffers: model.buffers.length, bn_layers: bns.length,
      bn_channels: bns.reduce((s, m) => s + m.channels, 0), bn_sync: cfg.bnSync,
    },
    runs,
  };
}

/**
 * Reads OUT/<rate>.json as written by scripts/netns-bench.sh, checking every field the
 * model reads, so a wrong or damaged file is named with what is wrong with it rather than
 * failing somewhere inside the arithmetic (or, worse, predicting NaN).
 */
export function readNetnsSummary(path: string): NetnsSummary {
  const fail = (why: string): never => {
    throw new Error(`${path} is not a netns-bench summary (OUT/<rate>.json from scripts/netns-bench.sh): ${why}`);
  };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const count = (o: Record<string, unknown>, key: string, where: string, min: number): void => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`${where}"${key}" must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  };
  if (!isObject(value)) return fail('expected a JSON object');
  if (typeof value.rate !== 'string') fail(`"rate" must be a string, got ${JSON.stringify(value.rate)}`);
  if (value.bits_per_sec !== null) count(value, 'bits_per_sec', '', 1);
  count(value, 'batch', '', 1);
  const model = value.model;
  if (!isObject(model)) return fail('"model" must be an object');
  for (const key of ['params', 'buffers', 'bn_layers', 'bn_channels']) count(model, key, 'model.', 0);
  if (model.bn_sync !== 'global' && model.bn_sync !== 'local') fail(`model."bn_sync" must be "global" or "local", got ${JSON.stringify(model.bn_sync)}`);
  if (!Array.isArray(value.runs) || value.runs.length === 0) return fail('"runs" must be a non-empty array');
  value.runs.forEach((run: unknown, i: number) => {
    if (!isObject(run)) return fail(`runs[${i}] must be an object`);
    for (const key of ['workers', 'threads']) count(run, key, `runs[${i}].`, 1);
    for (const key of ['step_ms', 'compute_ms', 'bn_wait_ms', 'communication_ms', 'optimizer_ms']) count(run, key, `runs[${i}].`, 0);
    if (run.coordinator_cpu_ms !== null && run.coordinator_cpu_ms !== undefined) count(run, 'coordinator_cpu_ms', `runs[${i}].`, 0);
  });
  return value as unknown as NetnsSummary;
}

/** The summary as a table for the terminal (and docs/measured.md). */
export function netnsTable(s: NetnsSummary): string {
  const f = (x: number, d = 1): string => x.toFixed(d);
  const lines = [
    `${s.rate} links, global batch ${s.batch}, step means over the timed steps (ms):`,
    '| workers × threads | samples/s | step | compute | SyncBN wait | communication | optimizer | MB/step on the coordinator link | CPU/step: coordinator, a worker |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...s.runs.map((r) => `| ${r.workers} × ${r.threads} | ${Math.round(r.samples_per_sec).toLocaleString('en-US')} | ${f(r.step_ms)} | ${f(r.compute_ms)} | ${f(r.bn_wait_ms)} | ` +
      `${f(r.communication_ms)} | ${f(r.optimizer_ms)} | ${f(r.coordinator_link_bytes_per_step / 1e6, 2)}${r.drops > 0 ? ` (${r.drops} drops)` : ''} | ` +
      `${r.coordinator_cpu_ms === null ? '–' : f(r.coordinator_cpu_ms)}, ${r.worker_cpu_ms === null ? '–' : f(r.worker_cpu_ms)} |`),
  ];
  return lines.join('\n');
}
