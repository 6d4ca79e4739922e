import {
  constantSchedule,
  cosineSchedule,
  exponentialDecay,
  inverseTimeDecay,
  stepDecay,
  type Schedule,
} from './schedules.js';

/** A schedule as JSON-ish data; `lr` may be left out and taken from the optimizer. */
export type ScheduleConfig =
  | { kind: 'constant'; lr?: number }
  | { kind: 'step'; lr?: number; stepSize: number; gamma?: number }
  | { kind: 'exponential'; lr?: number; k: number }
  | { kind: 'inverse-time'; lr?: number; k: number }
  | { kind: 'cosine'; lr?: number; total: number; warmup?: number; minLr?: number; cycles?: number };

type Builder = { required: string[]; optional: string[]; build: (o: never) => Schedule };

const SCHEDULES: Record<string, Builder> = {
  constant: { required: [], optional: [], build: constantSchedule },
  step: { required: ['stepSize'], optional: ['gamma'], build: stepDecay },
  exponential: { required: ['k'], optional: [], build: exponentialDecay },
  'inverse-time': { required: ['k'], optional: [], build: inverseTimeDecay },
  cosine: { required: ['total'], optional: ['warmup', 'minLr', 'cycles'], build: cosineSchedule },
};

export const SCHEDULE_KINDS: readonly string[] = Object.keys(SCHEDULES);

/**
 * A schedule from a config such as `{ kind: 'cosine', warmup: 100, total: 1000, minLr: 0 }`.
 * `baseLr` (usually the optimizer's lr) is used when the config has no `lr`. Unknown kinds,
 * unknown or missing fields and non-numbers are errors that name the problem.
 */
export function createSchedule(config: ScheduleConfig | Record<string, unknown>, baseLr?: number): Schedule {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new TypeError(`A schedule config must be an object, got ${JSON.stringify(config)}`);
  }
  const c = config as Record<string, unknown>;
  const kind = String(c.kind);
  const spec = Object.hasOwn(SCHEDULES, kind) ? SCHEDULES[kind] : undefined;
  if (spec === undefined) {
    throw new RangeError(`Unknown schedule kind "${kind}"; valid kinds: ${SCHEDULE_KINDS.join(', ')}`);
  }
  const allowed = ['kind', 'lr', ...spec.required, ...spec.optional];
  const params: Record<string, number> = {};
  for (const [key, value] of Object.entries(c)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`Unknown field "${key}" in ${kind} schedule; valid fields: ${allowed.join(', ')}`);
    }
    if (key === 'kind' || value === undefined) continue;
    if (typeof value !== 'number') {
      throw new TypeError(`Invalid ${key} in ${kind} schedule: ${JSON.stringify(value)} (expected a number)`);
    }
    params[key] = value;
  }
  for (const key of spec.required) {
    if (params[key] === undefined) throw new TypeError(`The ${kind} schedule needs "${key}"`);
  }
  const lr = params.lr ?? baseLr;
  if (lr === undefined) {
    throw new TypeError(`The ${kind} schedule needs an lr: set "lr" in the config or pass the optimizer's lr`);
  }
  params.lr = lr;
  return spec.build(params as never);
}
