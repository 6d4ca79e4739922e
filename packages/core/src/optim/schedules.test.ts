import { describe, expect, it } from 'vitest';
import { createSchedule } from './create-schedule.js';
import { cosineCycleEnds, cosineSchedule, exponentialDecay, inverseTimeDecay, stepDecay } from './schedules.js';

describe('schedules (seed 003: step, exponential α0·e^(−kt), 1/t α0/(1 + kt); cosine with warm-up)', () => {
  it('constant', () => {
    const s = createSchedule({ kind: 'constant', lr: 0.3 });
    expect([0, 1, 1000].map(s)).toEqual([0.3, 0.3, 0.3]);
  });

  it('step decay: lr · γ^⌊t / stepSize⌋ (halving every 3 steps)', () => {
    const s = stepDecay({ lr: 0.1, stepSize: 3, gamma: 0.5 });
    expect([0, 2, 3, 5, 6, 9].map(s)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    expect(createSchedule({ kind: 'step', lr: 1, stepSize: 10 })(25)).toBeCloseTo(0.01, 15);
  });

  it('exponential: α0 e^(−kt)', () => {
    const s = exponentialDecay({ lr: 0.2, k: 0.1 });
    expect(s(0)).toBe(0.2);
    expect(s(10)).toBeCloseTo(0.2 * Math.exp(-1), 15);
    expect(s(10)).toBeCloseTo(0.0735758882, 9);
  });

  it('1/t: α0 / (1 + kt)', () => {
    const s = inverseTimeDecay({ lr: 0.1, k: 0.5 });
    expect(s(0)).toBe(0.1);
    expect(s(4)).toBeCloseTo(0.1 / 3, 15);
    expect(createSchedule({ kind: 'inverse-time', k: 1 }, 0.6)(2)).toBeCloseTo(0.2, 15);
  });

  it('cosine with linear warm-up', () => {
    // lr 1, warm-up 4, then 10 cosine steps from 1 down towards minLr 0.1.
    const s = createSchedule({ kind: 'cosine', lr: 1, warmup: 4, total: 14, minLr: 0.1 });
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s(4)).toBe(1);
    expect(s(9)).toBeCloseTo(0.55, 15); // halfway: cos(π/2) = 0
    expect(s(13)).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos(0.9 * Math.PI)), 15);
    expect(s(13)).toBeCloseTo(0.1220246, 7);
    expect(s(14)).toBe(0.1);
    expect(s(1000)).toBe(0.1);
  });

  it('cosine restarts: C equal cycles after warm-up', () => {
    const cfg = { lr: 1, warmup: 4, total: 14, cycles: 2 };
    const s = cosineSchedule(cfg);
    expect(s(4)).toBe(1);
    expect(s(8)).toBeCloseTo(0.5 * (1 + Math.cos(0.8 * Math.PI)), 15);
    expect(s(9)).toBe(1); // restart
    expect(s(11)).toBeCloseTo(0.5 * (1 + Math.cos(0.4 * Math.PI)), 15);
    expect(cosineCycleEnds(cfg)).toEqual([8, 13]);
    expect(cosineCycleEnds({ lr: 0.1, total: 30, cycles: 3 })).toEqual([9, 19, 29]);
  });

  it('the config lr wins over the base lr; the base lr fills in a missing one', () => {
    expect(createSchedule({ kind: 'cosine', total: 10 }, 0.4)(0)).toBe(0.4);
    expect(createSchedule({ kind: 'cosine', total: 10, lr: 0.2 }, 0.4)(0)).toBe(0.2);
  });
});

describe('schedule errors', () => {
  it('unknown kind lists the valid ones', () => {
    expect(() => createSchedule({ kind: 'linear' })).toThrow(
      'Unknown schedule kind "linear"; valid kinds: constant, step, exponential, inverse-time, cosine',
    );
    expect(() => createSchedule(null as never)).toThrow('A schedule config must be an object');
  });

  it('unknown, missing and mistyped fields', () => {
    expect(() => createSchedule({ kind: 'cosine', total: 10, warmUp: 5 }, 1)).toThrow(
      'Unknown field "warmUp" in cosine schedule; valid fields: kind, lr, total, warmup, minLr, cycles',
    );
    expect(() => createSchedule({ kind: 'cosine', warmup: 5 }, 1)).toThrow('The cosine schedule needs "total"');
    expect(() => createSchedule({ kind: 'step', stepSize: '3' }, 1)).toThrow(
      'Invalid stepSize in step schedule: "3" (expected a number)',
    );
    expect(() => createSchedule({ kind: 'cosine', total: 10 })).toThrow(
      'The cosine schedule needs an lr: set "lr" in the config or pass the optimizer\'s lr',
    );
  });

  it('out-of-range values', () => {
    expect(() => createSchedule({ kind: 'cosine', total: 100, warmup: 100 }, 1)).toThrow(
      'Invalid total: 100 (expected an integer > warmup (100))',
    );
    expect(() => createSchedule({ kind: 'cosine', total: 100, warmup: 10, cycles: 7 }, 1)).toThrow(
      'Invalid cycles: 7 (expected a divisor of total - warmup (90))',
    );
    expect(() => createSchedule({ kind: 'cosine', total: 10, minLr: 2 }, 1)).toThrow('Invalid minLr: 2 (expected minLr <= lr (1))');
    expect(() => createSchedule({ kind: 'step', stepSize: 0 }, 1)).toThrow('Invalid stepSize: 0');
    expect(() => createSchedule({ kind: 'step', stepSize: 2, gamma: 1.5 }, 1)).toThrow('Invalid gamma: 1.5');
    expect(() => createSchedule({ kind: 'exponential', k: -1 }, 1)).toThrow('Invalid decay rate k: -1');
    expect(() => createSchedule({ kind: 'constant' }, -1)).toThrow('Invalid learning rate: -1');
    expect(() => createSchedule({ kind: 'constant' }, 1)(-1)).toThrow('Invalid schedule step: -1');
  });
});
