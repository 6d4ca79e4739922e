import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, ProtocolError, type GradientMessage, type StepMessage } from '../src/index.js';

describe('step attempts and non-finite flags', () => {
  const step: StepMessage = {
    type: 'step', step: 4, epoch: 0, batch: 4, start: 0, end: 2, batchStart: 8, globalBatch: 2, attempt: 2,
  };
  it('round-trip, and stay absent when not given', () => {
    expect(decodeMessage(encodeMessage(step))).toEqual(step);
    const { attempt: _omit, ...first } = step;
    expect('attempt' in decodeMessage(encodeMessage(first))).toBe(false);
    const gradient: GradientMessage = {
      type: 'gradient', step: 4, samples: 2, lossSum: 0, attempt: 2, nonFinite: true,
      timings: { computeMs: 1, bnWaitMs: 0, serializeMs: 0 }, gradient: new Float32Array(2), buffers: new Float32Array(0),
    };
    expect(decodeMessage(encodeMessage(gradient))).toEqual(gradient);
  });
  it('are checked like every other field', () => {
    expect(() => encodeMessage({ ...step, attempt: -1 })).toThrow(ProtocolError);
    expect(() => encodeMessage({ ...step, attempt: 1.5 })).toThrow(/attempt/);
  });
  it('step members round-trip, stay absent when not given, and are at least 1', () => {
    expect(decodeMessage(encodeMessage({ ...step, members: 1 }))).toEqual({ ...step, members: 1 });
    expect('members' in decodeMessage(encodeMessage(step))).toBe(false);
    expect(() => encodeMessage({ ...step, members: 0 })).toThrow('step: field "members" must be an integer >= 1, got 0');
    expect(() => encodeMessage({ ...step, members: 2.5 })).toThrow(ProtocolError);
  });
});
