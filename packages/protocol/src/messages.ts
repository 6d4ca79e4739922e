/**
 * The messages worker and coordinator exchange (DESIGN 8), as the codec hands them to and
 * takes them from the program. Bulk data are typed-array fields; on the wire they become
 * the frame's payload and the header carries their lengths instead (`paramCount`,
 * `bufferCount`, `channels`), see frame.ts.
 */
import type { ModelSpec } from '@flotilla/core';

/**
 * Bumped whenever a message or the frame layout changes; checked on `hello`. 5: gradient
 * timings may carry cpuMs, which a protocol-4 coordinator would refuse as an unknown field.
 */
export const PROTOCOL_VERSION = 5;

/** worker → coordinator, first message of every connection. */
export interface HelloMessage {
  type: 'hello';
  /** The worker's PROTOCOL_VERSION. */
  version: number;
  /** Shared secret; the coordinator compares it, the codec only checks it is a string. */
  token: string;
  /** Size of the worker's thread pool (positive). */
  threads: number;
  pid?: number;
  host?: string;
  /**
   * The matmul kernel the worker computes with (core's matmulKernelLabel, e.g. `wasm-fma`).
   * Workers on different kernels compute the same model only up to rounding.
   */
  matmul?: string;
}

/** The run settings a worker needs to compute exactly what a single process would. */
export interface RunConfig {
  /** Seed of the counter-based generator (data order, dropout masks); integer ≥ 0. */
  seed: number;
  /** SyncBN mode (DESIGN 6). */
  bnSync: 'global' | 'local';
  /** Label smoothing in [0, 1). */
  smoothing: number;
  /** Input perturbation strength, ≥ 0. */
  perturb: number;
  /** Data set name, as the worker's data set registry knows it. */
  dataset: string;
  /** Training-sample limit, integer ≥ 0. */
  trainLimit: number;
  /** Wire precision of the gradients workers send (absent: f32). */
  gradDtype?: 'f32' | 'f16' | 'bf16';
  /**
   * Smallest gradient part, in MiB of float32, a worker sends while backward goes on (the
   * rest goes in its gradient message); absent or 0: the gradient is sent whole, at the end.
   */
  bucketMb?: number;
}

/** coordinator → worker, answer to an accepted hello: everything needed to build a replica. */
export interface WelcomeMessage {
  type: 'welcome';
  workerId: number;
  runId: string;
  spec: ModelSpec;
  config: RunConfig;
  /** Step the run is at (0 for a fresh run, later after a resume). */
  step: number;
  params: Float32Array;
  buffers: Float32Array;
}

/**
 * coordinator → worker: compute the gradient of positions [start, end) of one global batch,
 * with the parameters of the `params` message for the same step that follows it on the
 * connection (encoded once per step for all workers, so it carries no shard of its own). The
 * worker starts when the parameters are in.
 */
export interface StepMessage {
  type: 'step';
  step: number;
  epoch: number;
  /** Index of this batch within the epoch. */
  batch: number;
  /** This worker's shard: positions [start, end) within the global batch; may be empty. */
  start: number;
  end: number;
  /** Position of the global batch's first sample in the epoch's order. */
  batchStart: number;
  /** Size of this global batch (the last batch of an epoch may be short). */
  globalBatch: number;
  /**
   * Bumped each time the coordinator redoes a step without a lost worker; a worker drops an
   * unfinished older attempt, and replies carry the attempt they belong to. Absent means 0.
   */
  attempt?: number;
  /**
   * Workers computing this step (absent: unknown). With 1 the worker's own merged SyncBN
   * statistics are the global ones, so it skips the round trips through the coordinator.
   */
  members?: number;
  /** The run records this step in its timeline: after its gradient the worker sends a `trace` message (absent: false). */
  trace?: boolean;
}

/** coordinator → worker: the parameters and BatchNorm buffers a step starts from, right after its step message (since protocol 4; before it until then). */
export interface ParamsMessage {
  type: 'params';
  step: number;
  params: Float32Array;
  buffers: Float32Array;
}

export type BnPhase = 'forward' | 'backward';

/**
 * Both directions: one SyncBN all-reduce round (DESIGN 6). A worker sends its shard's
 * statistics, the coordinator answers with the merged global ones, in the same layout.
 *
 * `values` has 2·channels float64 entries: forward, the per-channel mean then the
 * per-channel M2 (sum of squared deviations from the mean, Chan et al.); backward, the
 * per-channel Σdy then Σdy·x̂. Float64 because the merged statistics must match a single
 * process to 1e-4 relative; float32 sums of squares cancel badly.
 */
export interface BnMessage {
  type: 'bn';
  step: number;
  /** Module id of the BatchNorm layer. */
  layer: number;
  phase: BnPhase;
  /** Rows behind the statistics: this shard's in a request, the global batch's in a reply. */
  count: number;
  /** The step attempt this round belongs to (absent: 0). */
  attempt?: number;
  values: Float64Array;
}

/** Per-step timings a worker reports, in milliseconds. */
export interface StepTimings {
  computeMs: number;
  bnWaitMs: number;
  serializeMs: number;
  /**
   * CPU time of the whole worker process (every thread, user + system) since its previous
   * gradient message: with the coordinator's own, it says whether a machine's cores, rather
   * than the network, bound the step. Absent from workers that do not measure it.
   */
  cpuMs?: number;
}

/** worker → coordinator: the summed gradient of a shard and the BatchNorm buffers after it. */
export interface GradientMessage {
  type: 'gradient';
  step: number;
  /** Samples the gradient sums over (end − start of the assignment). */
  samples: number;
  /** Sum (not mean) of the per-sample losses. */
  lossSum: number;
  /** The step attempt this gradient belongs to (absent: 0). */
  attempt?: number;
  /**
   * The worker's loss or gradient came out NaN or infinite (divergence, not a malformed
   * message): the payload is zeros and the coordinator skips the step. Absent: false.
   */
  nonFinite?: boolean;
  /**
   * Wire precision of `gradient` (absent: float32). f16 values travel multiplied by
   * `gradScale`, a power of two the encoder picks (see half.ts); decoding divides it out.
   */
  dtype?: 'f16' | 'bf16';
  gradScale?: number;
  timings: StepTimings;
  /**
   * How many gradient-part messages of this step attempt came first (absent: none). They
   * carried the end of the gradient, [gradient.length, paramCount), so `gradient` is only
   * what was left: parameters [0, gradient.length).
   */
  parts?: number;
  /** Σ over the shard's samples of ∂loss/∂params: one value per parameter, or the first ones after parts. */
  gradient: Float32Array;
  /** BatchNorm running statistics after the step. */
  buffers: Float32Array;
}

/**
 * worker → coordinator: a piece of a shard's gradient that became final during the backward
 * pass, sent while the rest is still being computed (gradient buckets, as in DDP). A
 * worker's parts of one attempt tile the end of the flat gradient from the back: the first
 * part ends at paramCount, each next one ends where the previous began, and the gradient
 * message carries what is left, [0, offset of the last part).
 */
export interface GradientPartMessage {
  type: 'gradient-part';
  step: number;
  /** The step attempt (absent: 0). */
  attempt?: number;
  /** Index of `gradient[0]` in the flat gradient. */
  offset: number;
  /** Wire precision, as for a gradient message. */
  dtype?: 'f16' | 'bf16';
  gradScale?: number;
  /** Σ over the shard's samples of ∂loss/∂params for parameters [offset, offset + length). */
  gradient: Float32Array;
}

/**
 * One span of a timeline: `name` ran on thread `tid` of the sender (0: its main thread,
 * k + 1: its compute thread k) from `ts` for `dur`, in microseconds of the sender's clock
 * (Unix epoch). `args` are a few details shown with it (the layer of a SyncBN wait, ...).
 */
export interface TraceEvent {
  name: string;
  tid: number;
  ts: number;
  dur: number;
  args?: Record<string, string | number>;
}

/**
 * worker → coordinator, when the run records a timeline: the spans of one step attempt on
 * this worker, sent after its gradient so they stay off the step's critical path.
 */
export interface TraceMessage {
  type: 'trace';
  step: number;
  events: TraceEvent[];
}

/** Either direction: liveness. `time` is the sender's clock in milliseconds. */
export interface HeartbeatMessage {
  type: 'heartbeat';
  time: number;
}

/** Either direction: the sender refuses something; usually followed by closing. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

/** Either direction: orderly goodbye. */
export interface ByeMessage {
  type: 'bye';
  reason: string;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | StepMessage
  | ParamsMessage
  | BnMessage
  | GradientMessage
  | GradientPartMessage
  | TraceMessage
  | HeartbeatMessage
  | ErrorMessage
  | ByeMessage;

export type MessageType = Message['type'];

/** What a worker may send. */
export type WorkerMessage =
  | HelloMessage | BnMessage | GradientMessage | GradientPartMessage | TraceMessage | HeartbeatMessage | ErrorMessage | ByeMessage;

/** What a coordinator may send. */
export type CoordinatorMessage =
  | WelcomeMessage | StepMessage | ParamsMessage | BnMessage | HeartbeatMessage | ErrorMessage | ByeMessage;

export const MESSAGE_TYPES: readonly MessageType[] = [
  'hello', 'welcome', 'step', 'params', 'bn', 'gradient', 'gradient-part', 'trace', 'heartbeat', 'error', 'bye',
];

const FROM_WORKER: ReadonlySet<string> = new Set<WorkerMessage['type']>(['hello', 'bn', 'gradient', 'gradient-part', 'trace', 'heartbeat', 'error', 'bye']);
const FROM_COORDINATOR: ReadonlySet<string> = new Set<CoordinatorMessage['type']>(['welcome', 'step', 'params', 'bn', 'heartbeat', 'error', 'bye']);

/** True for messages a worker may send: what a coordinator should accept. */
export function isWorkerMessage(message: Message): message is WorkerMessage {
  return FROM_WORKER.has(message.type);
}

/** True for messages a coordinator may send: what a worker should accept. */
export function isCoordinatorMessage(message: Message): message is CoordinatorMessage {
  return FROM_COORDINATOR.has(message.type);
}

/** Parameter and buffer counts of a model: what the float payloads must match. */
export interface ModelCounts {
  paramCount: number;
  bufferCount: number;
}
