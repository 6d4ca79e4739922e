import { describe, expect, it } from 'vitest';
import { parseTimelineSteps } from './timeline-steps.js';

describe('parseTimelineSteps (--timeline)', () => {
  it('reads no flag, a bare flag, a range and an open range', () => {
    expect(parseTimelineSteps(undefined)).toBeUndefined();
    expect(parseTimelineSteps('')).toEqual({ from: 0, to: Infinity });
    expect(parseTimelineSteps('100-199')).toEqual({ from: 100, to: 199 });
    expect(parseTimelineSteps('7-7')).toEqual({ from: 7, to: 7 });
    expect(parseTimelineSteps('50-')).toEqual({ from: 50, to: Infinity });
  });

  it('names a malformed or reversed range', () => {
    for (const bad of ['x', '10', '-5', '5-3', '1.5-3', '3-x']) {
      expect(() => parseTimelineSteps(bad)).toThrow(`Invalid --timeline: ${bad} (expected FROM-TO steps`);
    }
  });
});
