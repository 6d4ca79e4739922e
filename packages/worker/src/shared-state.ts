import type { Dataset } from '@flotilla/core';

/**
 * The shared memory of one worker process and its K threads (DESIGN 7). Plain
 * SharedArrayBuffers, so the whole object can be posted to a thread without copying:
 *
 *   params   P floats       the current parameters, written by the main thread, read by all
 *   grads    K × P floats   thread k writes its gradient into slot k; main sums the slots
 *   buffers  K × B floats   BatchNorm running statistics, one replica per slot
 *   control  Int32 words    the SyncBN barrier (see bn-barrier.ts); in a solo step the last
 *                           thread to arrive reduces and releases, and posts each backward
 *                           barrier's ready-from in Control.partFrom for the main thread
 *   bnShards K × (1 + 2C)   float64: each slot's (count, a[C], b[C]) at a barrier
 *   bnResult 1 + 2C         float64: the reduced (count, a[C], b[C]) handed back
 *   readyFrom K             int32: where slot k's final gradient suffix starts, as of its latest
 *                           backward barrier or, in steps without barriers, its latest post
 *   inputs, labels          the training set, loaded once per process
 */
export interface SharedState {
  threads: number;
  paramCount: number;
  bufferCount: number;
  /** Widest BatchNorm layer: the size of a barrier slot's per-channel arrays. */
  maxChannels: number;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  buffers: SharedArrayBuffer;
  control: SharedArrayBuffer;
  bnShards: SharedArrayBuffer;
  bnResult: SharedArrayBuffer;
  readyFrom: SharedArrayBuffer;
  inputs: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  inputShape: number[];
  count: number;
  numClasses: number;
}

/** Control words of the barrier. */
export const Control = {
  /** Threads that have arrived at the current barrier. */
  arrived: 0,
  /** Bumped by the main thread to release a barrier. */
  generation: 1,
  /** Module id and phase (0 forward, 1 backward) of the current barrier. */
  layer: 2,
  phase: 3,
  /** Set when the step is abandoned: waiting threads throw instead of hanging. */
  abort: 4,
  /**
   * Solo steps: where the gradient suffix final in every slot starts, as of the latest
   * completed backward barrier (the parameter count before the first). Only ever decreases
   * within a step, so the main thread may read it late and skip values.
   */
  partFrom: 5,
  /**
   * Steps without backward barriers (per-shard BatchNorm, or none): bumped by a thread each
   * time it posts a lower readyFrom word during backward, to wake the main thread.
   */
  posts: 6,
  size: 7,
} as const;

export function slotWidth(maxChannels: number): number {
  return 1 + 2 * maxChannels;
}

export function createSharedState(threads: number, paramCount: number, bufferCount: number, maxChannels: number, data: Dataset): SharedState {
  const f32 = (n: number): SharedArrayBuffer => new SharedArrayBuffer(4 * n);
  const inputs = f32(data.inputs.length);
  new Float32Array(inputs).set(data.inputs);
  const labels = new SharedArrayBuffer(4 * data.labels.length);
  new Int32Array(labels).set(data.labels);
  return {
    threads, paramCount, bufferCount, maxChannels,
    params: f32(paramCount),
    grads: f32(threads * paramCount),
    buffers: f32(threads * bufferCount),
    control: new SharedArrayBuffer(4 * Control.size),
    bnShards: new SharedArrayBuffer(8 * threads * slotWidth(maxChannels)),
    bnResult: new SharedArrayBuffer(8 * slotWidth(maxChannels)),
    readyFrom: new SharedArrayBuffer(4 * threads),
    inputs, labels,
    inputShape: data.inputShape, count: data.count, numClasses: data.numClasses,
  };
}

/** Slot k of a K-slot float32 buffer. */
export function slot(buffer: SharedArrayBuffer, k: number, width: number): Float32Array {
  return new Float32Array(buffer, 4 * k * width, width);
}

/** The training set as a Dataset over shared memory (no copy). */
export function sharedDataset(s: SharedState): Dataset {
  return { inputs: new Float32Array(s.inputs), labels: new Int32Array(s.labels), inputShape: s.inputShape, count: s.count, numClasses: s.numClasses };
}
