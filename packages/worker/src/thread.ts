/**
 * The piscina task: one thread's share of one step. A thread keeps its model replica
 * between tasks (keyed by run); the replica's parameters are a view of the shared parameter
 * buffer, and its gradients and BatchNorm buffers are re-pointed at the slot of the task.
 */
import { registerOpenBlas } from '@flotilla/blas';
import {
  buildModel, computeGradients, CounterRng, epochOrder, gatherBatch, GradientReadiness, perturbInputs, Tensor,
  type Dataset, type Model, type ModelSpec, useMatmulKernel,
} from '@flotilla/core';
import { Timeline, type TraceEvent } from '@flotilla/protocol';
import { ThreadBarrier } from './bn-barrier.js';
import { GradientPoster } from './gradient-poster.js';
import { sharedDataset, slot, type SharedState } from './shared-state.js';

export interface ThreadRunConfig {
  seed: number;
  bnSync: 'global' | 'local';
  smoothing: number;
  perturb: number;
  /** Smallest gradient part (floats); Infinity: gradients go whole. */
  partFloats: number;
}

export interface StepTask {
  /** Identifies the run: a new key rebuilds the replica. */
  runKey: string;
  shared: SharedState;
  spec: ModelSpec;
  config: ThreadRunConfig;
  /** Which slot of the shared gradient and buffer arrays this task writes. */
  slot: number;
  step: number;
  epoch: number;
  /** Position of the global batch's first sample in the epoch's order. */
  batchStart: number;
  /** This task's rows: positions [start, end) within the global batch. */
  start: number;
  end: number;
  globalBatch: number;
  /** This process computes the whole step: the threads reduce SyncBN among themselves. */
  solo: boolean;
  /** No backward barriers to send gradient parts at: post progress as backward goes on (GradientPoster). */
  postParts: boolean;
  /** Record this step's spans (forward + backward, each SyncBN wait) for the run's timeline. */
  trace: boolean;
}

export interface StepResult {
  slot: number;
  samples: number;
  /** This shard's share of the global mean loss (Σ shard losses / global batch). */
  loss: number;
  computeMs: number;
  bnWaitMs: number;
  /** This thread's spans of the step, when the run records a timeline. */
  events?: TraceEvent[];
}

interface Replica {
  runKey: string;
  model: Model;
  data: Dataset;
  features: number;
  inputs: Float32Array;
  labels: Int32Array;
  barriers: ThreadBarrier[];
  posters: GradientPoster[];
  readiness: GradientReadiness;
  order: { epoch: number; order: Int32Array } | null;
}

let replica: Replica | null = null;

// Threads share the process's environment: FLOTILLA_MATMUL picks the kernel here as in the CLI.
registerOpenBlas();
useMatmulKernel(process.env.FLOTILLA_MATMUL);

function replicaFor(task: StepTask): Replica {
  if (replica?.runKey === task.runKey) return replica;
  const { shared } = task;
  const model = buildModel(task.spec, {
    storage: { params: new Float32Array(shared.params), grads: slot(shared.grads, 0, shared.paramCount), buffers: slot(shared.buffers, 0, shared.bufferCount) },
  });
  const features = shared.inputShape.reduce((a, b) => a * b, 1);
  // Backward barriers tell the main thread how much of the gradient is final (gradient parts).
  const readiness = new GradientReadiness(model);
  const barriers = Array.from({ length: shared.threads }, (_, k) => new ThreadBarrier(shared, k, readiness));
  replica = {
    runKey: task.runKey, model, data: sharedDataset(shared), features, inputs: new Float32Array(0), labels: new Int32Array(0),
    barriers, posters: Array.from({ length: shared.threads }, (_, k) => new GradientPoster(shared, k, task.config.partFloats)), readiness, order: null,
  };
  return replica;
}

function orderOf(r: Replica, seed: number, epoch: number): Int32Array {
  if (r.order?.epoch !== epoch) r.order = { epoch, order: epochOrder(seed, epoch, r.data.count) };
  return r.order.order;
}

export default function runStep(task: StepTask): StepResult {
  const started = performance.now();
  const r = replicaFor(task);
  const { shared, config } = task;
  const { model } = r;
  model.bindStorage({ grads: slot(shared.grads, task.slot, shared.paramCount), buffers: slot(shared.buffers, task.slot, shared.bufferCount) });
  model.zeroGrad();
  const n = task.end - task.start;
  const poster = task.postParts ? r.posters[task.slot] : null;
  poster?.reset();
  // A local-statistics shard with no rows has nothing to normalise and no barrier to meet.
  if (n === 0 && config.bnSync === 'local') {
    poster?.empty();
    return { slot: task.slot, samples: 0, loss: 0, computeMs: 0, bnWaitMs: 0 };
  }
  if (r.inputs.length < n * r.features) {
    r.inputs = new Float32Array(n * r.features);
    r.labels = new Int32Array(n);
  }
  const positions = orderOf(r, config.seed, task.epoch).subarray(task.batchStart + task.start, task.batchStart + task.end);
  gatherBatch(r.data, positions, r.inputs, r.labels);
  if (config.perturb > 0) perturbInputs(r.inputs, positions, r.features, { rng: new CounterRng(config.seed), epoch: task.epoch, sigma: config.perturb });
  const barrier = r.barriers[task.slot];
  barrier.waitMs = 0;
  const timeline = new Timeline(task.trace);
  barrier.timeline = timeline;
  barrier.solo = task.solo;
  r.readiness.reset();
  const x = new Tensor(r.inputs.subarray(0, n * r.features), model.batchShape(n));
  const loss = computeGradients(model, x, r.labels.subarray(0, n), {
    seed: config.seed,
    step: task.step,
    rowOffset: task.start,
    batchNormReducer: config.bnSync === 'global' ? (layer) => barrier.reducer(layer) : undefined,
  }, {
    smoothing: config.smoothing, globalBatch: task.globalBatch,
    onLeafReady: poster ? (leaf) => { r.readiness.onLeafReady(leaf); poster.progress(r.readiness.readyFrom); } : r.readiness.onLeafReady,
  });
  // The whole task, so the SyncBN waits nest inside it.
  timeline.span('forward + backward', started, task.slot + 1, { step: task.step, rows: n });
  return {
    slot: task.slot, samples: n, loss, computeMs: performance.now() - started - barrier.waitMs, bnWaitMs: barrier.waitMs,
    ...(task.trace ? { events: timeline.drain() } : {}),
  };
}
