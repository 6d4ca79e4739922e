import { describe, expect, it } from 'vitest';
import { createRunOptimizer, resolveRunConfig, scheduleConfig, TRAIN_DEFAULTS } from '../src/run-config.js';

describe('run config resolution', () => {
  it('flags override the file, which overrides the defaults', () => {
    const c = resolveRunConfig({ epochs: 3, lr: 0.01 }, { lr: 0.02, batch: undefined });
    expect(c).toMatchObject({ epochs: 3, lr: 0.02, batch: TRAIN_DEFAULTS.batch, optimizer: 'adam', bnSync: 'global' });
  });
  it('names the bad value', () => {
    expect(() => resolveRunConfig({}, { optimizer: 'adamax' })).toThrow(/Unknown optimizer "adamax" \(expected one of sgd, momentum, nesterov/);
    expect(() => resolveRunConfig({}, { batch: 0 })).toThrow(/Invalid batch: 0/);
    expect(() => resolveRunConfig({}, { bnSync: 'both' as 'global' })).toThrow(/Invalid bnSync: both/);
    expect(() => resolveRunConfig({ model: { input: [4], layers: [{ type: 'pool' }] } }, {})).toThrow(/layers\[0\] \(pool\): unknown layer type/);
  });
  it('maps momentum and nesterov onto SGD, and a cosine schedule onto the run length', () => {
    const nesterov = createRunOptimizer(resolveRunConfig({}, { optimizer: 'nesterov', lr: 0.1, momentum: 0.8 }));
    expect(nesterov.kind).toBe('sgd');
    expect(nesterov.state().hyper).toMatchObject({ momentum: 0.8, nesterov: true, lr: 0.1 });
    expect(scheduleConfig(resolveRunConfig({}, { schedule: 'cosine', warmup: 10 }), 500)).toEqual({ kind: 'cosine', total: 500, warmup: 10, cycles: 1 });
  });
});
