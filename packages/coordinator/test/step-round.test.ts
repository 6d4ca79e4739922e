import type { GradientMessage } from '@flotilla/protocol';
import { describe, expect, it } from 'vitest';
import { StepRound } from '../src/step-round.js';

const assignment = { step: 7, epoch: 0, batch: 7, batchStart: 0, globalBatch: 8 };
const P = 5;
const gradient = (values: number[], extra: Partial<GradientMessage> = {}): GradientMessage => ({
  type: 'gradient', step: 7, samples: 4, lossSum: 2, timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0 },
  gradient: Float32Array.from(values), buffers: new Float32Array(2), ...extra,
});
const settled = async (round: StepRound): Promise<boolean> => {
  let done = false;
  void round.done.then(() => { done = true; });
  await new Promise((r) => setTimeout(r, 0));
  return done;
};

describe('StepRound', () => {
  it('completes when every member has sent its gradient', async () => {
    const round = new StepRound(assignment, 0, [0, 1], new Float32Array(P));
    round.addGradient(0, gradient([1, 2, 3, 4, 5]));
    expect(await settled(round)).toBe(false);
    round.addGradient(1, gradient([1, 1, 1, 1, 1]));
    expect(await settled(round)).toBe(true);
    expect(round.diverged).toBe(false);
  });

  it('ends at the first non-finite report, without waiting for the other members', async () => {
    const round = new StepRound(assignment, 0, [0, 1, 2], new Float32Array(P));
    round.addGradient(2, gradient([0, 0, 0, 0, 0], { nonFinite: true }));
    expect(await settled(round)).toBe(true);
    expect(round.diverged).toBe(true);
    expect([...round.nonFinite]).toEqual([2]);
    expect(round.overflowLayer).toBeNull();
  });

  it('ends when finite SyncBN shards merge into an overflow, blaming the layer rather than a worker', async () => {
    const round = new StepRound(assignment, 0, [0, 1], new Float32Array(P));
    // Two shards of one channel whose means are finite but whose merged M2 overflows float64.
    const bn = (mean: number) => ({ type: 'bn' as const, step: 7, layer: 3, phase: 'forward' as const, count: 4, values: Float64Array.from([mean, 0]) });
    expect(round.addBatchNorm(0, bn(1e154))).toBeNull();
    expect(round.addBatchNorm(1, bn(-1e154))).toBeNull(); // no reply: the values cannot be sent
    expect(await settled(round)).toBe(true);
    expect(round.diverged).toBe(true);
    expect(round.overflowLayer).toBe(3);
    expect(round.nonFinite.size).toBe(0);
  });

  it('refuses gradient parts smaller than the run allows', () => {
    const round = new StepRound(assignment, 0, [0], new Float32Array(P), 2);
    const part = (offset: number, n: number) => ({ type: 'gradient-part' as const, step: 7, offset, gradient: new Float32Array(n) });
    expect(() => round.addGradientPart(0, part(4, 1))).toThrow('worker 0 sent a gradient part of 1 values; this run\'s parts have at least 2 (--bucket-mb)');
    round.addGradientPart(0, part(3, 2));
    // Parts off (the default here): any part is refused.
    expect(() => new StepRound(assignment, 0, [0], new Float32Array(P)).addGradientPart(0, part(3, 2))).toThrow('worker 0 sent a gradient part; this run sends whole gradients (--bucket-mb 0)');
  });
});
