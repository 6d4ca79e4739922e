/**
 * Exact field rules of every message header. One table serves both directions: the
 * encoder checks the header it is about to send with the same rules the decoder applies
 * to what it receives, so a frame this codec writes is a frame it accepts.
 *
 * Unknown fields are rejected, not ignored: both ends speak exactly PROTOCOL_VERSION
 * (checked on hello), so an extra field is a bug or a forgery, never a newer peer.
 */
import { validateModelSpec } from '@flotilla/core';
import { ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type MessageType } from './messages.js';
import type { FloatKind, WireKind } from './frame.js';

/**
 * Returns what is wrong with `value` at `path` (a dotted field path such as
 * `config.seed`), or undefined if it is fine.
 */
export type Rule = (value: unknown, path: string) => string | undefined;

/** One typed-array field of a message and the header count that gives its length. */
export interface Segment {
  field: string;
  count: string;
  /** Array length = count · per. */
  per: number;
  /** How the segment travels, from the header (default: the payload's kind). */
  wire?: (header: Record<string, unknown>) => WireKind;
}

export interface Schema {
  required: Record<string, Rule>;
  optional?: Record<string, Rule>;
  /** Checks across fields, run once every field is individually valid. */
  cross?: (header: Record<string, unknown>) => string | undefined;
  payload?: { kind: FloatKind; segments: Segment[] };
}

const MAX_JSON_DEPTH = 64;

/** Human-readable description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'number': return String(value);
    case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'boolean': return String(value);
    case 'bigint': return `the bigint ${value}`;
    case 'object':
      if (Array.isArray(value)) return `an array of ${value.length}`;
      if (isPlainObject(value)) return 'an object';
      return `a ${(value as object).constructor?.name ?? 'non-plain object'}`;
    default: return `a ${typeof value}`;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function int(min: number, max = Number.MAX_SAFE_INTEGER): Rule {
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
  return (v, path) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
    ? undefined
    : `field "${path}" must be an integer ${range}, got ${describe(v)}`);
}

/** A finite number in [min, max], or [min, max) with `maxExclusive`. */
export function num(min = -Infinity, max = Infinity, maxExclusive = false): Rule {
  const range = min === -Infinity && max === Infinity ? ''
    : max === Infinity ? ` >= ${min}`
      : ` in [${min}, ${max}${maxExclusive ? ')' : ']'}`;
  return (v, path) => (typeof v === 'number' && Number.isFinite(v) && v >= min && (maxExclusive ? v < max : v <= max)
    ? undefined
    : `field "${path}" must be a finite number${range}, got ${describe(v)}`);
}

export function str(nonEmpty = false): Rule {
  return (v, path) => (typeof v === 'string' && (!nonEmpty || v.length > 0)
    ? undefined
    : `field "${path}" must be a ${nonEmpty ? 'non-empty ' : ''}string, got ${describe(v)}`);
}

export function bool(): Rule {
  return (v, path) => (typeof v === 'boolean' ? undefined : `field "${path}" must be true or false, got ${describe(v)}`);
}

export function oneOf(...options: string[]): Rule {
  return (v, path) => (typeof v === 'string' && options.includes(v)
    ? undefined
    : `field "${path}" must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(v)}`);
}

/** A plain object with exactly these fields (the optional ones may be absent). */
export function object(fields: Record<string, Rule>, optional: Record<string, Rule> = {}): Rule {
  return (v, path) => {
    if (!isPlainObject(v)) return `field "${path}" must be an object, got ${describe(v)}`;
    return checkFields(v, fields, optional, path);
  };
}

/**
 * A JSON value: null, boolean, finite number, string, array or plain object of JSON
 * values. Guards free-form fields against what msgpackr would otherwise carry silently
 * (typed arrays truncated to bytes, Dates, Maps, bigints, undefined).
 */
export function jsonProblem(value: unknown, path: string, depth = 0): string | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `field "${path}" is ${value}, not a JSON number`;
  if (depth >= MAX_JSON_DEPTH) return `field "${path}" nests deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = jsonProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const problem = jsonProblem(value[key], `${path}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `field "${path}" is ${describe(value)}, not a JSON value`;
}

const modelSpec: Rule = (v, path) => {
  const problem = jsonProblem(v, path);
  if (problem) return problem;
  try {
    validateModelSpec(v);
    return undefined;
  } catch (err) {
    return `field "${path}" is not a valid model spec: ${(err as Error).message}`;
  }
};

function checkFields(
  value: Record<string, unknown>,
  required: Record<string, Rule>,
  optional: Record<string, Rule>,
  path: string,
  skip?: string,
): string | undefined {
  const prefix = path ? `${path}.` : '';
  for (const key of Object.keys(value)) {
    if (key !== skip && !Object.hasOwn(required, key) && !Object.hasOwn(optional, key)) {
      return `unknown field "${prefix}${key}"`;
    }
  }
  for (const [key, rule] of Object.entries(required)) {
    if (!Object.hasOwn(value, key)) return `missing field "${prefix}${key}"`;
    const problem = rule(value[key], `${prefix}${key}`);
    if (problem) return problem;
  }
  for (const [key, rule] of Object.entries(optional)) {
    if (!Object.hasOwn(value, key)) continue;
    const problem = rule(value[key], `${prefix}${key}`);
    if (problem) return problem;
  }
  return undefined;
}

const count = int(0);

/** The f16 gradient scale: a power of two (the encoder picks 2^-113..2^126; decoding rejects any overflow as non-finite). */
const powerOfTwo: Rule = (v, path) => (typeof v === 'number' && v >= 2 ** -126 && v <= 2 ** 126 && Number.isInteger(Math.log2(v)) && 2 ** Math.log2(v) === v
  ? undefined
  : `field "${path}" must be a power of two in [2^-126, 2^126], got ${describe(v)}`);
const gradientWire = (h: Record<string, unknown>): WireKind => (h.dtype === 'f16' || h.dtype === 'bf16' ? h.dtype : 'f32');
const gradScaleGoesWithF16 = (h: Record<string, unknown>): string | undefined => ((h.dtype === 'f16') === (h.gradScale !== undefined)
  ? undefined
  : 'field "gradScale" goes with dtype "f16" and only with it');
const f32Payload = (first: 'params' | 'gradient') => ({
  kind: 'f32' as const,
  segments: [
    { field: first, count: 'paramCount', per: 1 },
    { field: 'buffers', count: 'bufferCount', per: 1 },
  ],
});

/** Spans per trace message: a step's worth with room to spare (a thread makes a few per BatchNorm layer). */
export const MAX_TRACE_EVENTS = 4096;
const MAX_TRACE_NAME = 80;
const MAX_TRACE_ARGS = 8;

const traceEvent = object(
  { name: str(true), tid: int(0, 1024), ts: num(0), dur: num(0) },
  {
    args: (v, path) => {
      if (!isPlainObject(v)) return `field "${path}" must be an object, got ${describe(v)}`;
      const entries = Object.entries(v);
      if (entries.length > MAX_TRACE_ARGS) return `field "${path}" has ${entries.length} entries, over the limit of ${MAX_TRACE_ARGS}`;
      for (const [key, value] of entries) {
        if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' || value.length > MAX_TRACE_NAME) {
          return `field "${path}.${key}" must be a finite number or a string of at most ${MAX_TRACE_NAME} characters, got ${describe(value)}`;
        }
      }
      return undefined;
    },
  },
);

const traceEvents: Rule = (v, path) => {
  if (!Array.isArray(v)) return `field "${path}" must be an array, got ${describe(v)}`;
  if (v.length > MAX_TRACE_EVENTS) return `field "${path}" has ${v.length} events, over the limit of ${MAX_TRACE_EVENTS}`;
  for (let i = 0; i < v.length; i++) {
    const problem = traceEvent(v[i], `${path}[${i}]`)
      ?? ((v[i] as { name: string }).name.length > MAX_TRACE_NAME ? `field "${path}[${i}].name" is over ${MAX_TRACE_NAME} characters` : undefined);
    if (problem) return problem;
  }
  return undefined;
};

export const SCHEMAS: Record<MessageType, Schema> = {
  hello: {
    required: { version: int(0), token: str(), threads: int(1) },
    optional: { pid: int(0), host: str(), matmul: str() },
  },
  welcome: {
    required: {
      workerId: int(0),
      runId: str(true),
      spec: modelSpec,
      config: object({
        seed: int(0),
        bnSync: oneOf('global', 'local'),
        smoothing: num(0, 1, true),
        perturb: num(0),
        dataset: str(true),
        trainLimit: int(0),
      }, { gradDtype: oneOf('f32', 'f16', 'bf16'), bucketMb: num(0) }),
      step: int(0),
      paramCount: count,
      bufferCount: count,
    },
    payload: f32Payload('params'),
  },
  step: {
    required: {
      step: int(0),
      epoch: int(0),
      batch: int(0),
      start: int(0),
      end: int(0),
      batchStart: int(0),
      globalBatch: int(1),
    },
    optional: { attempt: int(0), members: int(1), trace: bool() },
    cross: (h) => ((h.start as number) <= (h.end as number) && (h.end as number) <= (h.globalBatch as number)
      ? undefined
      : `shard [${h.start}, ${h.end}) must satisfy start <= end <= globalBatch ${h.globalBatch}`),
  },
  params: {
    required: { step: int(0), paramCount: count, bufferCount: count },
    payload: f32Payload('params'),
  },
  bn: {
    required: {
      step: int(0),
      layer: int(0),
      phase: oneOf('forward', 'backward'),
      count: int(0),
      channels: int(1),
    },
    optional: { attempt: int(0) },
    payload: { kind: 'f64', segments: [{ field: 'values', count: 'channels', per: 2 }] },
  },
  gradient: {
    required: {
      step: int(0),
      samples: int(0),
      lossSum: num(),
      paramCount: count,
      bufferCount: count,
      timings: object({ computeMs: num(0), bnWaitMs: num(0), serializeMs: num(0) }, { cpuMs: num(0) }),
    },
    optional: { attempt: int(0), nonFinite: bool(), dtype: oneOf('f16', 'bf16'), gradScale: powerOfTwo, parts: int(1) },
    cross: gradScaleGoesWithF16,
    payload: {
      kind: 'f32',
      segments: [
        // With parts, paramCount counts the values this message carries, not the model's.
        { field: 'gradient', count: 'paramCount', per: 1, wire: gradientWire },
        { field: 'buffers', count: 'bufferCount', per: 1 },
      ],
    },
  },
  'gradient-part': {
    required: { step: int(0), offset: int(0), partCount: int(1) },
    optional: { attempt: int(0), dtype: oneOf('f16', 'bf16'), gradScale: powerOfTwo },
    cross: gradScaleGoesWithF16,
    payload: { kind: 'f32', segments: [{ field: 'gradient', count: 'partCount', per: 1, wire: gradientWire }] },
  },
  trace: { required: { step: int(0), events: traceEvents } },
  heartbeat: { required: { time: num() } },
  error: { required: { code: str(true), message: str() } },
  bye: { required: { reason: str() } },
};

export function isMessageType(type: string): type is MessageType {
  return Object.hasOwn(SCHEMAS, type);
}

/**
 * Validates a wire header (message fields plus counts, no typed arrays) of a known type,
 * throwing ProtocolError 'version' or 'bad-field'.
 */
export function validateHeader(type: MessageType, header: Record<string, unknown>): void {
  if (type === 'hello' && !int(0)(header.version, '') && header.version !== PROTOCOL_VERSION) {
    throw new ProtocolError('version', `hello: protocol version ${header.version}, this side speaks ${PROTOCOL_VERSION}`);
  }
  const schema = SCHEMAS[type];
  const problem = checkFields(header, schema.required, schema.optional ?? {}, '', 'type')
    ?? schema.cross?.(header);
  if (problem) throw new ProtocolError('bad-field', `${type}: ${problem}`);
}
