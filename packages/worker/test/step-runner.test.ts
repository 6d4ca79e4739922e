import { buildModel, computeGradients, DEFAULT_MNIST_SPEC, epochOrder, gatherBatch, takeFirst, Tensor, type Model } from '@flotilla/core';
import { loadDataset } from '@flotilla/datasets';
import type { RunConfig } from '@flotilla/protocol';
import type { ModelSpec } from '@flotilla/core';
import { afterAll, describe, expect, it } from 'vitest';
// The built session: its piscina threads load dist/thread.js.
import { RunSession } from '../dist/session.js';
import type { BatchNormExchange } from '../dist/step-runner.js';
import { aloneExchange, joinParts, sameBits, TINY_PARTS, type Part } from './parts.js';

const CONFIG: RunConfig = { seed: 3, bnSync: 'global', smoothing: 0, perturb: 0, dataset: 'mnist', trainLimit: 512 };
// A step of 7 rows of a global batch of 64, spread over 3 threads (3, 2 and 2 rows), and one
// of 2 rows over 3 threads, where one thread sees none.
const STEPS = [
  { step: 0, epoch: 0, batchStart: 0, start: 10, end: 17, globalBatch: 64, members: 2 },
  { step: 1, epoch: 0, batchStart: 64, start: 30, end: 32, globalBatch: 64, members: 2 },
];


/** The same rows' gradient computed in this process, in one piece: an independent reference. */
function referenceGradient(model: Model, step: (typeof STEPS)[number]): Float32Array {
  const data = takeFirst(loadDataset(CONFIG.dataset).train, CONFIG.trainLimit);
  const n = step.end - step.start;
  const positions = epochOrder(CONFIG.seed, step.epoch, data.count).subarray(step.batchStart + step.start, step.batchStart + step.end);
  const inputs = new Float32Array(n * 784), labels = new Int32Array(n);
  gatherBatch(data, positions, inputs, labels);
  model.zeroGrad();
  computeGradients(model, new Tensor(inputs, model.batchShape(n)), labels, { seed: CONFIG.seed, step: step.step, rowOffset: step.start }, { globalBatch: step.globalBatch });
  return Float32Array.from(model.grads);
}

const relativeL2 = (a: Float32Array, b: Float32Array): number => {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(d / n);
};

const sessions: RunSession[] = [];
afterAll(async () => { await Promise.all(sessions.map((s) => s.close())); });


/** Two sessions of 3 threads on the same model: one sends tiny parts (recorded in `parts`), one whole gradients. */
function splitAndWhole(spec: ModelSpec, config: RunConfig, exchange: (mine: BatchNormExchange) => Promise<BatchNormExchange>) {
  const parts: Part[] = [];
  const split = new RunSession('run', 0, spec, { ...config, bucketMb: TINY_PARTS }, 3, {
    exchange, sendPart: (offset, values) => { parts.push({ offset, values: values.slice() }); return true; },
  });
  const whole = new RunSession('run', 0, spec, config, 3, {
    exchange, sendPart: () => { throw new Error('a session with --bucket-mb 0 sent a part'); },
  });
  sessions.push(split, whole);
  return { split, whole, parts };
}

/** Runs `step` from the same parameters in both sessions; `a` (split) is copied out, since its buffers are reused. */
async function runBoth(sessions: ReturnType<typeof splitAndWhole>, model: Model, step: (typeof STEPS)[number]) {
  const { split, whole, parts } = sessions;
  parts.length = 0;
  split.runner.publish(model.params, model.buffers);
  const a = await split.runner.run(step);
  const head = a.grads.slice(), aBuffers = a.buffers.slice();
  whole.runner.publish(model.params, model.buffers);
  const b = await whole.runner.run(step);
  return { a, head, aBuffers, b };
}

describe('StepRunner: gradient parts during backward, real threads', () => {
  it('sends the end of the gradient in parts from the back; parts + head equal the whole gradient bit for bit, and the rows\' gradient', async () => {
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 5 });
    const replica = buildModel(DEFAULT_MNIST_SPEC, { seed: 5 });
    const both = splitAndWhole(DEFAULT_MNIST_SPEC, CONFIG, aloneExchange);
    const { parts } = both;
    const P = model.params.length;
    for (const step of STEPS) {
      const { a, head: aGrads, aBuffers, b } = await runBoth(both, model, step);
      expect(b.parts).toBe(0);
      expect(b.grads.length).toBe(P);
      // Two BatchNorms: a part at each backward barrier, tiling [head, P) from the back.
      expect(a.parts).toBe(2);
      expect(parts).toHaveLength(2);
      const joined = joinParts(parts, aGrads, P);
      expect(sameBits(joined, b.grads.subarray(0, P))).toBe(true);
      expect(Array.from(aBuffers)).toEqual(Array.from(b.buffers));
      expect([a.samples, b.samples]).toEqual([step.end - step.start, step.end - step.start]);
      expect(a.loss).toBe(b.loss);
      // The threads' shards summed are the rows' gradient (up to summation order).
      expect(relativeL2(joined, referenceGradient(replica, step))).toBeLessThan(1e-5);
    }
  });
});

describe('StepRunner: gradient parts without backward barriers, real threads', () => {
  // Per-shard BatchNorm, and a model without BatchNorm under global SyncBN: no backward
  // barriers to send parts at, so the threads post their progress as backward goes on.
  const NO_BN = { input: [784], layers: [{ type: 'linear', out: 64 }, { type: 'relu' }, { type: 'linear', out: 32 }, { type: 'relu' }, { type: 'linear', out: 10 }] };
  it.each([
    ['per-shard BatchNorm', DEFAULT_MNIST_SPEC, { ...CONFIG, bnSync: 'local' as const }],
    ['no BatchNorm', NO_BN, CONFIG],
  ])('%s: parts tile the gradient from the back and, with the head, equal the whole gradient bit for bit', async (_name, spec, config) => {
    const model = buildModel(spec, { seed: 5 });
    const noExchange = async (): Promise<BatchNormExchange> => { throw new Error('a step without barriers exchanged statistics'); };
    const both = splitAndWhole(spec, config, noExchange);
    const { parts } = both;
    const P = model.params.length;
    for (const step of STEPS) { // the second step leaves one of the 3 threads without rows
      const { a, head: aGrads, aBuffers, b } = await runBoth(both, model, step);
      expect(b.parts).toBe(0);
      expect(a.parts).toBe(parts.length);
      expect(parts.length).toBeGreaterThanOrEqual(1);
      expect(aGrads.length).toBeGreaterThan(0); // the end of backward is not posted: the head goes in the gradient
      expect(sameBits(joinParts(parts, aGrads, P), b.grads.subarray(0, P))).toBe(true);
      expect(Array.from(aBuffers)).toEqual(Array.from(b.buffers));
      expect(a.loss).toBe(b.loss);
    }
  });
});
