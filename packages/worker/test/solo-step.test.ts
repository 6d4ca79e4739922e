import { buildModel, DEFAULT_MNIST_SPEC } from '@flotilla/core';
import type { RunConfig } from '@flotilla/protocol';
import { afterAll, describe, expect, it } from 'vitest';
// The built session: its piscina threads load dist/thread.js.
import { RunSession } from '../dist/session.js';
import type { BatchNormExchange, StepAssignment } from '../dist/step-runner.js';
import { aloneExchange, joinParts, sameBits, TINY_PARTS, type Part } from './parts.js';

const CONFIG: RunConfig = { seed: 7, bnSync: 'global', smoothing: 0.1, perturb: 0, dataset: 'mnist', trainLimit: 512 };

// Rows of a global batch of 64, split over K threads by shardRanges: 7 rows (uneven),
// 2 rows (K = 3: 1, 0, 1) and 1 row (K = 2: 1, 0; K = 3: 0, 1, 0), so some threads see none.
const ROWS = [
  { step: 0, epoch: 0, batchStart: 0, start: 10, end: 17, globalBatch: 64 },
  { step: 1, epoch: 0, batchStart: 64, start: 30, end: 32, globalBatch: 64 },
  { step: 2, epoch: 0, batchStart: 128, start: 5, end: 6, globalBatch: 64 },
];

const noExchange = (): Promise<BatchNormExchange> => { throw new Error('a solo step went through the cross-process exchange'); };
const noParts = (): boolean => { throw new Error('a session with --bucket-mb 0 sent a part'); };


const sessions: RunSession[] = [];
afterAll(async () => { await Promise.all(sessions.map((s) => s.close())); });

function session(threads: number, link: ConstructorParameters<typeof RunSession>[5], bucketMb?: number): RunSession {
  const s = new RunSession('run', 0, DEFAULT_MNIST_SPEC, { ...CONFIG, ...(bucketMb === undefined ? {} : { bucketMb }) }, threads, link);
  sessions.push(s);
  return s;
}

describe('solo steps: the threads reduce SyncBN among themselves, real threads', () => {
  for (const threads of [2, 3]) {
    it(`K = ${threads}: gradient, loss, samples and BatchNorm buffers equal the main-thread path bit for bit; parts tile the gradient`, async () => {
      const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 11 });
      const P = model.params.length;
      const parts: Part[] = [];
      const viaMain = session(threads, { exchange: aloneExchange, sendPart: noParts });
      const solo = session(threads, { exchange: noExchange, sendPart: noParts });
      const soloParts = session(threads, { exchange: noExchange, sendPart: (offset, values) => { parts.push({ offset, values: values.slice() }); return true; } }, TINY_PARTS);
      for (const rows of ROWS) {
        viaMain.runner.publish(model.params, model.buffers);
        const ref = await viaMain.runner.run({ ...rows, members: 2 });
        const refGrads = ref.grads.slice(), refBuffers = ref.buffers.slice();
        expect(ref.parts).toBe(0);

        solo.runner.publish(model.params, model.buffers);
        const a = await solo.runner.run({ ...rows, members: 1 });
        expect(a.parts).toBe(0);
        expect(sameBits(a.grads, refGrads)).toBe(true);
        expect(sameBits(a.buffers, refBuffers)).toBe(true);
        expect(a.loss).toBe(ref.loss);
        expect(a.samples).toBe(rows.end - rows.start);
        expect(ref.samples).toBe(rows.end - rows.start);

        parts.length = 0;
        soloParts.runner.publish(model.params, model.buffers);
        const b = await soloParts.runner.run({ ...rows, members: 1 });
        // Parts go out from the back, adjacent, each big enough; the head is what they left.
        expect(b.parts).toBeGreaterThanOrEqual(1);
        expect(parts).toHaveLength(b.parts);
        const joined = joinParts(parts, b.grads, P);
        expect(soloParts.runner.unsentFrom).toBe(b.grads.length);
        expect(sameBits(joined, refGrads)).toBe(true);
        expect(sameBits(b.buffers, refBuffers)).toBe(true);
        expect(b.loss).toBe(ref.loss);
        // The next step starts from these statistics, as training would.
        model.buffers.set(refBuffers);
      }
    });
  }

  it('an abort during a solo step rejects the step on the main thread, and the next step runs normally', async () => {
    const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 11 });
    const s = session(3, { exchange: noExchange, sendPart: () => true }, TINY_PARTS);
    const rows = { ...ROWS[0], members: 1 };
    s.runner.publish(model.params, model.buffers);
    const before = await s.runner.run(rows);
    const grads = before.grads.slice();
    // run() resets the abort flag synchronously; aborting right after lands before any
    // barrier, so every thread meets it and throws rather than waiting for siblings.
    const aborted = s.runner.run(rows);
    s.runner.abort();
    await expect(aborted).rejects.toThrow(/SyncBN barrier abandoned/);
    s.runner.publish(model.params, model.buffers);
    const after = await s.runner.run(rows);
    expect(sameBits(after.grads, grads)).toBe(true);
  }, 20_000);
});
