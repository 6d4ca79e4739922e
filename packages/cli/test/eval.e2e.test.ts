import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, DEFAULT_MNIST_SPEC, encodeModelCheckpoint } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runFlotilla } from '../src/run-flotilla.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-eval-'));
const write = (name: string, bytes: Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const modelA = buildModel(DEFAULT_MNIST_SPEC, { seed: 1 });
const a = write('a.safetensors', encodeModelCheckpoint(modelA, { step: 1 }, [{ prefix: 'ema.', layout: modelA.paramLayout, data: modelA.params as Float32Array }]));
const b = write('b.safetensors', encodeModelCheckpoint(buildModel(DEFAULT_MNIST_SPEC, { seed: 2 })));
const quick = ['--test-limit', '300', '--bn-samples', '500', '--json'];

describe('flotilla eval (real process)', () => {
  it('reports members, the ensemble with its curve, the average and the EMA as one JSON object', () => {
    const r = runFlotilla(['eval', a, b, a, '--ensemble', '--average', '--out', join(dir, 'report'), ...quick]);
    expect(r.stderr).toMatch(/ensemble of 3/);
    expect(r.status).toBe(0);
    const report = lastJsonLine(r.stdout) as Record<string, any>;
    expect(report.members).toHaveLength(3);
    expect(report.members[0].accuracy).toBe(report.members[2].accuracy);
    expect(report.ensemble.curve.map((p: { size: number }) => p.size)).toEqual([1, 2, 3]);
    expect(report.ensemble.curve[0].accuracy).toBe(report.members[0].accuracy);
    for (const key of ['ensemble', 'average', 'ema']) {
      expect(report[key].accuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(report[key].nll) && Number.isFinite(report[key].ece)).toBe(true);
    }
    // eval.json holds the same report; eval.svg the chart.
    expect(JSON.parse(readFileSync(join(dir, 'report', 'eval.json'), 'utf8')).members).toHaveLength(3);
    expect(readFileSync(join(dir, 'report', 'eval.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('an ensemble of one checkpoint twice is that checkpoint', () => {
    const report = lastJsonLine(runFlotilla(['eval', b, b, '--ensemble', '--out', join(dir, 'twice'), ...quick]).stdout) as Record<string, any>;
    expect(report.ensemble.accuracy).toBe(report.members[0].accuracy);
    expect(report.ensemble.nll).toBeCloseTo(report.members[0].nll, 10);
  });

  it('names a missing file, a corrupt file and an architecture mismatch', () => {
    const missing = runFlotilla(['eval', join(dir, 'nope.safetensors')]);
    expect(missing.status).toBe(1);
    // One line naming the problem, no stack trace.
    expect(missing.stderr).toMatch(/^flotilla: Cannot read checkpoint .*nope\.safetensors: no such file\n$/);
    const bytes = new Uint8Array(readFileSync(a));
    const corrupt = write('corrupt.safetensors', bytes.subarray(0, bytes.length - 100));
    const bad = runFlotilla(['eval', corrupt]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^flotilla: Checkpoint .*corrupt\.safetensors is unusable: .*truncated[^\n]*\n$/);
    const small = write('small.safetensors', encodeModelCheckpoint(buildModel({ input: [784], layers: [{ type: 'linear', out: 10 }] })));
    const mismatch = runFlotilla(['eval', a, small, '--ensemble']);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/Checkpoints .*a\.safetensors and .*small\.safetensors have different architectures: 0\.weight \[512, 784\] in the first, 0\.weight \[10, 784\] in the second/);
  });
});
