import { describe, expect, it } from 'vitest';
import { EarlyStopping } from './early-stopping.js';

describe('EarlyStopping (seed 002: stop when validation loss stops decreasing, keep the best weights)', () => {
  it('stops after `patience` checks without an improvement larger than minDelta, and restores the best', () => {
    const es = new EarlyStopping(2, { patience: 2, minDelta: 0.1 });
    const params = new Float32Array(2);
    const losses = [1.0, 0.95, 0.85, 0.8, 0.84];
    const stops = losses.map((loss, epoch) => {
      params.fill(epoch);
      return es.update(loss, params);
    });
    // 0.95 is not below 1.0 − 0.1; 0.85 is (new best, epoch 2); 0.8 and 0.84 are not below 0.75.
    expect(stops).toEqual([false, false, false, false, true]);
    expect(es.bestLoss).toBe(0.85);
    expect(es.bestCheck).toBe(2);
    expect(es.checksWithoutImprovement).toBe(2);
    expect(Array.from(es.bestParams)).toEqual([2, 2]);
    es.restore(params);
    expect(Array.from(params)).toEqual([2, 2]);
  });

  it('with minDelta 0 any decrease counts, and the snapshot buffer is allocated once', () => {
    const es = new EarlyStopping(3, { patience: 1 }, 'float64');
    const snapshot = es.bestParams;
    expect(snapshot).toBeInstanceOf(Float64Array);
    expect(es.update(2, Float64Array.from([1, 2, 3]))).toBe(false);
    expect(es.update(1.999, Float64Array.from([4, 5, 6]))).toBe(false);
    expect(es.bestParams).toBe(snapshot);
    expect(Array.from(snapshot)).toEqual([4, 5, 6]);
    expect(es.update(1.999, Float64Array.from([7, 8, 9]))).toBe(true);
    expect(Array.from(snapshot)).toEqual([4, 5, 6]);
  });

  it('a NaN loss never improves', () => {
    const es = new EarlyStopping(1, { patience: 2 });
    expect(es.update(NaN, new Float32Array(1))).toBe(false);
    expect(es.update(NaN, new Float32Array(1))).toBe(true);
    expect(() => es.restore(new Float32Array(1))).toThrow('no finite validation loss has been recorded yet');
  });

  it('rejects bad options and sizes', () => {
    expect(() => new EarlyStopping(2, { patience: 0 })).toThrow('Invalid patience: 0 (expected an integer >= 1)');
    expect(() => new EarlyStopping(2, { patience: 1.5 })).toThrow('Invalid patience: 1.5');
    expect(() => new EarlyStopping(2, { patience: 1, minDelta: -1 })).toThrow('Invalid minDelta: -1');
    const es = new EarlyStopping(2, { patience: 1 });
    expect(() => es.update(1, new Float32Array(3))).toThrow('EarlyStopping: params has 3 elements, expected 2');
  });
});

describe('EarlyStopping state (a resumed run continues exactly)', () => {
  const losses = [1.0, 0.9, 0.95, 0.7, 0.72, 0.71, 0.74, 0.69, 0.8, 0.81];
  const run = (es: EarlyStopping, from: number, to: number): boolean[] => {
    const params = new Float32Array(3);
    return losses.slice(from, to).map((loss, i) => { params.fill(from + i); return es.update(loss, params); });
  };

  it('saving after any check and loading into a fresh instance gives the same decisions and best weights as never stopping', () => {
    const whole = new EarlyStopping(3, { patience: 3, minDelta: 0.005 });
    const expected = run(whole, 0, losses.length);
    for (let cut = 0; cut <= losses.length; cut++) {
      const first = new EarlyStopping(3, { patience: 3, minDelta: 0.005 });
      const before = run(first, 0, cut);
      const counters = JSON.parse(JSON.stringify(first.state())) as ReturnType<EarlyStopping['state']>; // as a checkpoint stores it
      const resumed = new EarlyStopping(3, { patience: 3, minDelta: 0.005 });
      resumed.loadState(counters, Float32Array.from(first.bestParams));
      expect([...before, ...run(resumed, cut, losses.length)]).toEqual(expected);
      expect(resumed.bestLoss).toBe(whole.bestLoss);
      expect(resumed.bestCheck).toBe(whole.bestCheck);
      expect(Array.from(resumed.bestParams)).toEqual(Array.from(whole.bestParams));
    }
    expect(whole.bestCheck).toBe(7); // 0.69 at check 7 beats 0.7 − 0.005
  });

  it('stores "no best yet" as null (JSON has no Infinity) and refuses inconsistent counters, naming them', () => {
    const es = new EarlyStopping(2, { patience: 2 });
    expect(es.state()).toEqual({ best: null, bestAt: -1, checks: 0, sinceBest: 0 });
    const fresh = new Float32Array(2);
    expect(() => es.loadState({ best: 0.5, bestAt: -1, checks: 2, sinceBest: 1 }, fresh)).toThrow(/inconsistent counters/);
    expect(() => es.loadState({ best: 0.5, bestAt: 3, checks: 2, sinceBest: 0 }, fresh)).toThrow(/inconsistent counters/);
    expect(() => es.loadState({ best: 0.5, bestAt: 0, checks: 1, sinceBest: 0 }, new Float32Array(3))).toThrow(/3 elements, expected 2/);
  });
});
