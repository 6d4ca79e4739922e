/**
 * Learning-rate schedules as pure functions of the 0-based step index: `schedule(t)` is the
 * lr for step t, so a loop passes `optimizer.step(p, g, schedule(optimizer.stepCount))`.
 * "Step" is whatever unit the caller counts (iterations or epochs); step sizes use the same.
 */
export type Schedule = (step: number) => number;

function check(ok: boolean, what: string, value: unknown, expected: string): void {
  if (!ok) throw new RangeError(`Invalid ${what}: ${value} (expected ${expected})`);
}
const isInt = Number.isInteger;
const checkLr = (lr: number, what = 'learning rate'): void => check(lr >= 0 && lr < Infinity, what, lr, 'a finite number >= 0');
const checkK = (k: number): void => check(k >= 0 && k < Infinity, 'decay rate k', k, 'a finite number >= 0');
const checkStep = (t: number): void => check(t >= 0 && t < Infinity, 'schedule step', t, 'a finite number >= 0');

export function constantSchedule(o: { lr: number }): Schedule {
  const { lr } = o;
  checkLr(lr);
  return (t) => {
    checkStep(t);
    return lr;
  };
}

/** Step decay (seed 003: "decay the learning rate by half every few epochs"), PyTorch's StepLR: lr · γ^⌊t / stepSize⌋. */
export function stepDecay(o: { lr: number; stepSize: number; gamma?: number }): Schedule {
  const { lr, stepSize, gamma = 0.1 } = o;
  checkLr(lr);
  check(stepSize > 0 && stepSize < Infinity, 'stepSize', stepSize, 'a finite number > 0');
  check(gamma > 0 && gamma <= 1, 'gamma', gamma, '0 < gamma <= 1');
  return (t) => {
    checkStep(t);
    return lr * gamma ** Math.floor(t / stepSize);
  };
}

/** Exponential decay, seed 003: α = α0 e^(−k t). (PyTorch's ExponentialLR with γ = e^(−k).) */
export function exponentialDecay(o: { lr: number; k: number }): Schedule {
  const { lr, k } = o;
  checkLr(lr);
  checkK(k);
  return (t) => {
    checkStep(t);
    return lr * Math.exp(-k * t);
  };
}

/** 1/t decay, seed 003: α = α0 / (1 + k t). */
export function inverseTimeDecay(o: { lr: number; k: number }): Schedule {
  const { lr, k } = o;
  checkLr(lr);
  checkK(k);
  return (t) => {
    checkStep(t);
    return lr / (1 + k * t);
  };
}

export interface CosineOptions {
  lr: number;
  /** Steps in the whole schedule, warm-up included; from `total` on the lr stays at minLr. */
  total: number;
  /** Linear warm-up steps: lr · (t + 1) / warmup for t < warmup. Default 0. */
  warmup?: number;
  minLr?: number;
  /** Cosine cycles after warm-up (SGDR-style restarts, for snapshot ensembles). Default 1. */
  cycles?: number;
}

/**
 * Cosine annealing with linear warm-up and optional restarts. After warm-up the remaining
 * total − warmup steps split into `cycles` equal cycles of L steps; at position
 * s = (t − warmup) mod L within one, lr(t) = minLr + (lr − minLr)(1 + cos(π s / L)) / 2
 * (Loshchilov & Hutter's SGDR with equal cycles; Huang et al.'s snapshot-ensemble schedule
 * when minLr = 0). Each cycle restarts at lr and ends just above minLr, at the step
 * `cosineCycleEnds` lists, where a snapshot ensemble saves a model.
 */
export function cosineSchedule(o: CosineOptions): Schedule {
  const { lr, total, warmup = 0, minLr = 0, cycles = 1 } = o;
  checkLr(lr);
  checkLr(minLr, 'minLr');
  check(minLr <= lr, 'minLr', minLr, `minLr <= lr (${lr})`);
  check(isInt(warmup) && warmup >= 0, 'warmup', warmup, 'an integer >= 0');
  check(isInt(total) && total > warmup, 'total', total, `an integer > warmup (${warmup})`);
  check(isInt(cycles) && cycles >= 1, 'cycles', cycles, 'an integer >= 1');
  check((total - warmup) % cycles === 0, 'cycles', cycles, `a divisor of total - warmup (${total - warmup})`);
  const length = (total - warmup) / cycles;
  return (t) => {
    checkStep(t);
    if (t < warmup) return (lr * (t + 1)) / warmup;
    if (t >= total) return minLr;
    const s = (t - warmup) % length;
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * s) / length))) / 2;
  };
}

/** The last step of each cosine cycle: where snapshot ensembles take their snapshots. */
export function cosineCycleEnds(o: CosineOptions): number[] {
  cosineSchedule(o);
  const { total, warmup = 0, cycles = 1 } = o;
  const length = (total - warmup) / cycles;
  return Array.from({ length: cycles }, (_, c) => warmup + (c + 1) * length - 1);
}
