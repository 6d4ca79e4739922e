import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/autodiff/tensor.js';
import { epochOrder, gatherBatch } from '../src/data/batches.js';
import { buildModel } from '../src/model/model.js';
import { createOptimizer } from '../src/optim/index.js';
import { LocalTrainer, type GradientRequest, type GradientSource, type StepReport } from '../src/train/local-trainer.js';
import { computeGradients } from '../src/train/step.js';

const spec = { input: [4], layers: [{ type: 'linear', out: 6 }, { type: 'relu' }, { type: 'linear', out: 3 }] };
const count = 22; // batches of 8, 8 and 6
const data = {
  inputs: Float32Array.from({ length: count * 4 }, (_, i) => Math.sin(1.7 * i)),
  inputShape: [4], labels: Int32Array.from({ length: count }, (_, i) => (i * 7) % 3), count, numClasses: 3,
};
const options = { batchSize: 8, seed: 11, schedule: (step: number) => 0.1 / (1 + step) };

function trainer(): LocalTrainer {
  return new LocalTrainer(buildModel(spec, { seed: 4 }), createOptimizer('adam', { lr: 0.1 }), data, options);
}

/** The gradient as trainEpoch computes it, but from outside the trainer, as threads would; every request is kept in `asked`. */
function sourceFor(t: LocalTrainer, corrupt?: (step: number) => boolean, asked: GradientRequest[] = []): GradientSource {
  return async (request) => {
    asked.push(request);
    const { step, indices } = request;
    const n = indices.length;
    const inputs = new Float32Array(n * 4), labels = new Int32Array(n);
    gatherBatch(data, indices, inputs, labels);
    t.model.zeroGrad();
    const loss = computeGradients(t.model, new Tensor(inputs, [n, 4]), labels, { seed: options.seed, step, rowOffset: 0 }, {});
    return corrupt?.(step) ? NaN : loss;
  };
}

const strip = (r: StepReport) => ({ ...r, computeMs: 0, optimizerMs: 0 });

describe('LocalTrainer.trainEpochWith', () => {
  it('with the same gradients steps exactly as trainEpoch: same weights bit for bit, same reports and epoch loss', async () => {
    const here = trainer(), there = trainer();
    const asked: GradientRequest[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const a: StepReport[] = [], b: StepReport[] = [];
      const lossHere = here.trainEpoch(epoch, (r) => a.push(strip(r)));
      const lossThere = await there.trainEpochWith(epoch, sourceFor(there, undefined, asked), (r) => b.push(strip(r)));
      expect(b).toEqual(a);
      expect(a.map((r) => r.samples)).toEqual([8, 8, 6]);
      expect(lossThere).toBe(lossHere);
    }
    expect(Array.from(there.model.params)).toEqual(Array.from(here.model.params));
    expect(there.step).toBe(6);
    // What a thread needs to find the rows itself (it reads the epoch's order from batchStart
    // on, not the indices): the step, the epoch and where the batch starts in that order.
    expect(asked.map((r) => [r.step, r.epoch, r.batchStart])).toEqual([[0, 0, 0], [1, 0, 8], [2, 0, 16], [3, 1, 0], [4, 1, 8], [5, 1, 16]]);
    const order = (epoch: number): Int32Array => Int32Array.from(asked.filter((r) => r.epoch === epoch).flatMap((r) => Array.from(r.indices)));
    for (const epoch of [0, 1]) expect(Array.from(order(epoch)).sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(Array.from(order(0))).toEqual(Array.from(epochOrder(options.seed, 0, count)));
  });

  it('skips a step whose source reports a non-finite loss: weights untouched, left out of the epoch loss', async () => {
    const t = trainer();
    const reports: StepReport[] = [];
    let before = new Float32Array(0);
    const loss = await t.trainEpochWith(0, sourceFor(t, (step) => step === 1), (r) => {
      if (r.step === 0) before = Float32Array.from(t.model.params);
      if (r.step === 1) expect(Array.from(t.model.params)).toEqual(Array.from(before));
      reports.push(r);
    });
    expect(reports.map((r) => r.skipped)).toEqual([false, true, false]);
    const kept = reports.filter((r) => !r.skipped);
    expect(loss).toBeCloseTo((kept[0].loss * 8 + kept[1].loss * 6) / 14, 12);
  });
});
