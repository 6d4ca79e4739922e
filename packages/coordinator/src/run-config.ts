import { readFileSync } from 'node:fs';
import { DATASET_NAMES, isDatasetName } from '@flotilla/datasets';
import type { RunConfig as WorkerRunConfig } from '@flotilla/protocol';
import { buildModel, createOptimizer, DEFAULT_MNIST_SPEC, OPTIMIZER_NAMES, validateModelSpec, type ModelSpec, type Optimizer } from '@flotilla/core';

/** Everything a training run needs, after merging defaults, the config file and flags. */
export interface RunConfig {
  model: ModelSpec;
  /** Data set name (see @flotilla/datasets). */
  dataset: string;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: string;
  /** Momentum μ of the `momentum` and `nesterov` optimizers. */
  momentum: number;
  weightDecay: number;
  seed: number;
  smoothing: number;
  clip: number;
  perturb: number;
  schedule: string;
  warmup: number;
  trainLimit: number;
  testLimit: number;
  val: number;
  patience: number;
  /** Stop after this many optimizer steps (0: run all epochs). */
  steps: number;
  /** SyncBN mode: global batch statistics, or each shard's own (plain DDP). */
  bnSync: 'global' | 'local';
  /** Decay of the EMA of the weights (seed 003: 0.995). */
  emaDecay: number;
  /** Write a checkpoint every this many steps (0: at epoch ends and the end only). */
  checkpointEvery: number;
  /** Cycles of the cosine schedule (warm restarts; > 1 for snapshot ensembles). */
  cycles: number;
  /** Wire precision of worker gradients: f32 (exact), f16 (scaled) or bf16. */
  gradDtype: 'f32' | 'f16' | 'bf16';
  /** Smallest gradient part (MiB) workers send during backward, overlapping transfer with compute; 0: whole gradients. */
  bucketMb: number;
}

export const TRAIN_DEFAULTS: Omit<RunConfig, 'model'> = {
  dataset: 'mnist',
  epochs: 5,
  batch: 256,
  lr: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  weightDecay: 0,
  seed: 0,
  smoothing: 0,
  clip: 0,
  perturb: 0,
  schedule: 'constant',
  warmup: 0,
  trainLimit: 0,
  testLimit: 0,
  val: 0,
  patience: 0,
  steps: 0,
  bnSync: 'global',
  emaDecay: 0.995,
  checkpointEvery: 0,
  cycles: 1,
  gradDtype: 'f32',
  bucketMb: 0.25,
};

/** `momentum` and `nesterov` are SGD with momentum μ (Nesterov in seed 003's φ form). */
const SGD_ALIASES: Record<string, { nesterov: boolean }> = { momentum: { nesterov: false }, nesterov: { nesterov: true } };
export const OPTIMIZER_CHOICES = [...OPTIMIZER_NAMES.slice(0, 1), ...Object.keys(SGD_ALIASES), ...OPTIMIZER_NAMES.slice(1)];

/** The run's optimizer, with the CLI's names and options mapped onto core's. */
export function createRunOptimizer(config: RunConfig): Optimizer {
  const common = { lr: config.lr, weightDecay: config.weightDecay };
  const alias = SGD_ALIASES[config.optimizer];
  return alias ? createOptimizer('sgd', { ...common, momentum: config.momentum, ...alias }) : createOptimizer(config.optimizer, common);
}

const SCHEDULE_CHOICES = ['constant', 'cosine', 'step', 'exponential', 'inverse-time'];

/**
 * Reads `--config FILE`: either a model spec (`{"input": ..., "layers": [...]}`) or a run
 * config (`{"model": {...spec}, "epochs": 3, "lr": 0.01, ...}` with the flag names as keys).
 */
export function readConfigFile(path: string): Partial<RunConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`Config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`Config ${path}: expected a JSON object`);
  const obj = json as Record<string, unknown>;
  if ('layers' in obj) return { model: withContext(path, () => validateModelSpec(obj)) };
  const { model, ...rest } = obj;
  const known = new Set(Object.keys(TRAIN_DEFAULTS));
  for (const key of Object.keys(rest)) {
    if (!known.has(key)) throw new Error(`Config ${path}: unknown key "${key}" (known: model, ${[...known].join(', ')})`);
  }
  return { ...(rest as Partial<RunConfig>), ...(model === undefined ? {} : { model: withContext(path, () => validateModelSpec(model)) }) };
}

function withContext<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new Error(`Config ${path}: ${(error as Error).message}`);
  }
}

/** Defaults < config file < flags given on the command line; then every value is checked. */
export function resolveRunConfig(file: Partial<RunConfig>, flags: Partial<RunConfig>): RunConfig {
  const merged = { model: DEFAULT_MNIST_SPEC, ...TRAIN_DEFAULTS, ...file, ...definedOnly(flags) } as RunConfig;
  const positiveInt = (k: keyof RunConfig): void => {
    const v = merged[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`Invalid ${k}: ${String(v)} (expected a positive integer)`);
  };
  const nonNegative = (k: keyof RunConfig): void => {
    const v = merged[k];
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new Error(`Invalid ${k}: ${String(v)} (expected a number >= 0)`);
  };
  positiveInt('epochs');
  positiveInt('batch');
  for (const k of ['lr', 'weightDecay', 'clip', 'perturb', 'warmup', 'trainLimit', 'testLimit', 'val', 'patience', 'seed', 'steps', 'checkpointEvery', 'bucketMb'] as const) nonNegative(k);
  for (const k of ['seed', 'steps', 'checkpointEvery', 'trainLimit', 'testLimit', 'val', 'patience', 'warmup', 'cycles'] as const) {
    if (!Number.isInteger(merged[k])) throw new Error(`Invalid ${k}: ${merged[k]} (expected an integer)`);
  }
  if (merged.cycles < 1) throw new Error(`Invalid cycles: ${merged.cycles} (expected a positive integer)`);
  if (!['f32', 'f16', 'bf16'].includes(merged.gradDtype)) throw new Error(`Invalid gradDtype: ${String(merged.gradDtype)} (expected f32, f16 or bf16)`);
  if (merged.bnSync !== 'global' && merged.bnSync !== 'local') throw new Error(`Invalid bnSync: ${String(merged.bnSync)} (expected global or local)`);
  if (!(merged.emaDecay >= 0 && merged.emaDecay < 1)) throw new Error(`Invalid emaDecay: ${merged.emaDecay} (expected 0 <= emaDecay < 1)`);
  if (!isDatasetName(merged.dataset)) throw new Error(`Unknown dataset "${merged.dataset}" (expected one of ${DATASET_NAMES.join(', ')}, csv:PATH#LABEL_COLUMN or lines:PATH)`);
  buildModel(merged.model); // an unknown layer or impossible shape fails here, naming the layer
  if (!(merged.lr > 0)) throw new Error(`Invalid lr: ${merged.lr} (expected a number > 0)`);
  if (!(merged.smoothing >= 0 && merged.smoothing < 1)) throw new Error(`Invalid smoothing: ${merged.smoothing} (expected 0 <= smoothing < 1)`);
  if (!OPTIMIZER_CHOICES.includes(merged.optimizer)) throw new Error(`Unknown optimizer "${merged.optimizer}" (expected one of ${OPTIMIZER_CHOICES.join(', ')})`);
  if (!(merged.momentum >= 0 && merged.momentum < 1)) throw new Error(`Invalid momentum: ${merged.momentum} (expected 0 <= momentum < 1)`);
  if (!SCHEDULE_CHOICES.includes(merged.schedule)) throw new Error(`Unknown schedule "${merged.schedule}" (expected one of ${SCHEDULE_CHOICES.join(', ')})`);
  return merged;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The schedule config for core's createSchedule, given the run's length in steps. */
export function scheduleConfig(config: RunConfig, totalSteps: number): Record<string, unknown> {
  switch (config.schedule) {
    case 'cosine': return { kind: 'cosine', total: totalSteps, warmup: config.warmup, cycles: config.cycles };
    case 'step': return { kind: 'step', stepSize: Math.max(1, Math.floor(totalSteps / 3)), gamma: 0.1 };
    case 'exponential': return { kind: 'exponential', k: 3 / totalSteps };
    case 'inverse-time': return { kind: 'inverse-time', k: 10 / totalSteps };
    default: return { kind: 'constant' };
  }
}

/** The part of the run config a worker needs to compute gradients (sent in its welcome). */
export function workerConfigOf(c: RunConfig): WorkerRunConfig {
  return {
    seed: c.seed, bnSync: c.bnSync, smoothing: c.smoothing, perturb: c.perturb, dataset: c.dataset, trainLimit: c.trainLimit,
    ...(c.gradDtype === 'f32' ? {} : { gradDtype: c.gradDtype }),
    ...(c.bucketMb > 0 ? { bucketMb: c.bucketMb } : {}),
  };
}
