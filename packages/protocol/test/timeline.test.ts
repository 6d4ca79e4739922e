import { describe, expect, it } from 'vitest';
import { Timeline } from '../src/index.js';

describe('Timeline', () => {
  it('records spans in epoch microseconds from a performance.now() reading to now', () => {
    const timeline = new Timeline(true);
    const start = performance.now();
    const wallBefore = Date.now();
    while (performance.now() - start < 2) { /* spin 2 ms */ }
    timeline.span('work', start, 3, { layer: 2, phase: 'forward' });
    const [e] = timeline.drain();
    expect(e).toMatchObject({ name: 'work', tid: 3, args: { layer: 2, phase: 'forward' } });
    expect(e.ts).toBe((performance.timeOrigin + start) * 1000); // epoch µs of the reading
    // On the Unix epoch (Date's clock), to within the ms both clocks agree to.
    expect(Math.abs(e.ts / 1000 - wallBefore)).toBeLessThan(50);
    expect(e.dur).toBeGreaterThanOrEqual(2000);
    expect(e.dur).toBeLessThan(2000 + 1000 * (performance.now() - start));
    expect(timeline.drain()).toEqual([]); // drained
  });

  it('keeps nothing when disabled', () => {
    const timeline = new Timeline(false);
    timeline.span('work', performance.now());
    timeline.add([{ name: 'x', tid: 0, ts: 1, dur: 1 }]);
    expect(timeline.drain()).toEqual([]);
  });

  it('adds spans recorded elsewhere after its own, in order', () => {
    const timeline = new Timeline(true);
    timeline.span('mine', performance.now());
    timeline.add([{ name: 'thread', tid: 1, ts: 5, dur: 2 }]);
    expect(timeline.drain().map((e) => e.name)).toEqual(['mine', 'thread']);
  });
});
