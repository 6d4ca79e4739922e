import { decodeModelCheckpoint, ModelEarlyStopping } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../src/run-config.js';
import { TrainingState } from '../src/training-state.js';

const config = resolveRunConfig({
  model: { input: [4], layers: [{ type: 'linear', out: 3 }, { type: 'batchnorm' }, { type: 'relu' }, { type: 'linear', out: 2 }] },
}, { seed: 1 });

describe('TrainingState checkpoints carry early stopping', () => {
  it('restores the counters and the best weights and BatchNorm statistics, so a resumed run stops when an uninterrupted one would', () => {
    const state = new TrainingState(config, 100);
    const { model } = state;
    const stopper = new ModelEarlyStopping(model, 2);
    model.buffers.forEach((_, i) => { model.buffers[i] = 0.25 * (i + 1); });
    stopper.update(0.5); // the best: these weights and statistics
    const bestParams = Float32Array.from(model.params);
    const bestBuffers = Float32Array.from(model.buffers);
    model.params.fill(3);
    model.buffers.fill(7);
    stopper.update(0.6); // one check without improvement
    const bytes = state.checkpoint({ runId: 'r' }, stopper);

    const resumed = new TrainingState(config, 100);
    resumed.restore(bytes);
    const restored = resumed.restoredEarlyStopping;
    expect(restored?.counters).toEqual({ best: 0.5, bestAt: 0, checks: 2, sinceBest: 1 });
    expect(Array.from(restored!.params)).toEqual(Array.from(bestParams));
    expect(Array.from(restored!.buffers)).toEqual(Array.from(bestBuffers));
    // The resumed stopper stops at the next check without improvement, as the first would have.
    const again = new ModelEarlyStopping(resumed.model, 2);
    again.load(restored!.counters, restored!.params, restored!.buffers);
    expect(again.update(0.55)).toBe(true);
    expect(again.restore()).toBe(true);
    expect(Array.from(resumed.model.params)).toEqual(Array.from(bestParams));
    expect(Array.from(resumed.model.buffers)).toEqual(Array.from(bestBuffers));
    // eval and ensemble read such a checkpoint too (the extra tensors are expected).
    expect(() => decodeModelCheckpoint(bytes)).not.toThrow();
  });

  it('a checkpoint of a run without early stopping restores none', () => {
    const state = new TrainingState(config, 100);
    const resumed = new TrainingState(config, 100);
    resumed.restore(state.checkpoint({ runId: 'r' }));
    expect(resumed.restoredEarlyStopping).toBeNull();
  });
});

describe('TrainingState EMA (updated after the next parameters are sent)', () => {
  it('equals the EMA updated at every step, in checkpoints and after flushEma', () => {
    const state = new TrainingState(config, 100);
    const decay = config.emaDecay;
    const eager = Float64Array.from(state.model.params);
    for (let step = 0; step < 3; step++) {
      state.grads.forEach((_, i) => { state.grads[i] = Math.sin(i + step); });
      state.apply(1);
      if (step < 2) state.flushEma(); // the coordinator flushes once the next step's parameters are out
      // x_ema = d·x_ema + (1 − d)·x, in float32 as ExponentialMovingAverage stores it
      for (let i = 0; i < eager.length; i++) eager[i] = Math.fround(decay * eager[i] + (1 - decay) * state.model.params[i]);
    }
    // The last step's update is still pending: a checkpoint flushes it first.
    const { checkpoint } = decodeModelCheckpoint(state.checkpoint({ runId: 'r' }));
    const saved = checkpoint.tensors;
    const emaFirst = saved.get('ema.0.weight')!.data;
    const offset = state.model.paramLayout.find((e) => e.name === '0.weight')!.offset;
    for (let i = 0; i < emaFirst.length; i++) expect(emaFirst[i]).toBeCloseTo(eager[offset + i], 6);
    expect(Array.from(state.ema.values).every((v, i) => Math.abs(v - eager[i]) <= 1e-6 * Math.max(1, Math.abs(eager[i])))).toBe(true);
  });
});
