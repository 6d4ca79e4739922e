import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModelCheckpoint, evaluate, noGrad, takeFirst, Tensor } from '@flotilla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '@flotilla/datasets';
import { lastJsonLine, runFlotilla } from '../src/run-flotilla.js';

const LOADER = fileURLToPath(new URL('../../../scripts/peers/load_checkpoint.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;

describe('flotilla train --local (real process, real MNIST subset)', () => {
  const out = mkdtempSync(join(tmpdir(), 'flotilla-train-'));
  let summary: Record<string, unknown>;

  beforeAll(() => {
    const r = runFlotilla(['train', '--local', '--epochs', '2', '--train-limit', '4000', '--test-limit', '1000', '--batch', '100', '--out', out, '--json']);
    expect(r.stderr).toMatch(/epoch 2\/2: train loss/);
    expect(r.status).toBe(0);
    summary = lastJsonLine(r.stdout);
  }, 180_000);

  it('prints a JSON summary as the last line, and learns', () => {
    expect(summary).toMatchObject({ steps: 80, epochs: 2, run_dir: out, skipped_steps: 0 });
    // 4,000 samples, 2 epochs: far above chance (10%); a broken gradient stays near it.
    expect(summary.test_accuracy).toBeGreaterThan(0.85);
    expect(summary.samples_per_sec).toBeGreaterThan(0);
  });

  it('writes metrics.jsonl with every step and every epoch', () => {
    const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const steps = records.filter((r) => r.kind === 'step');
    const epochs = records.filter((r) => r.kind === 'epoch');
    expect(steps.map((r) => r.step)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(epochs.map((r) => r.epoch)).toEqual([1, 2]);
    expect(steps.every((r) => r.lr === 1e-3 && Number.isFinite(r.loss) && r.grad_norm > 0)).toBe(true);
    expect(epochs[1].test_accuracy).toBe(summary.test_accuracy);
  });

  it('writes a final checkpoint that reloads into the same model (same test accuracy)', () => {
    const { model, checkpoint } = decodeModelCheckpoint(new Uint8Array(readFileSync(join(out, 'checkpoints', 'final.safetensors'))));
    expect(checkpoint.state).toMatchObject({ step: 80 });
    const test = takeFirst(loadMnist().test, 1000);
    expect(evaluate(model, test).accuracy).toBe(summary.test_accuracy);
  });

  it.skipIf(!hasTorch)('loads into the equivalent PyTorch nn.Sequential with the same predictions', () => {
    const { model } = decodeModelCheckpoint(new Uint8Array(readFileSync(join(out, 'checkpoints', 'final.safetensors'))));
    const test = takeFirst(loadMnist().test, 200);
    const ours = noGrad(() => model.eval().forward(new Tensor(test.inputs, [200, 784]), { seed: 0, step: 0, rowOffset: 0 }));
    const inputs = join(out, 'inputs.f32');
    const outputs = join(out, 'outputs.f32');
    writeFileSync(inputs, new Uint8Array(test.inputs.buffer, test.inputs.byteOffset, test.inputs.byteLength));
    const r = spawnSync(PYTHON, [LOADER, join(out, 'checkpoints', 'final.safetensors'), '--inputs', inputs, '--outputs', outputs], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bytes = readFileSync(outputs);
    const theirs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(theirs.length).toBe(ours.size);
    let maxDiff = 0;
    for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(theirs[i] - ours.data[i]));
    // Same float32 maths in a different summation order: logits of size ~10 agree to ~1e-5.
    expect(maxDiff).toBeLessThan(1e-3);
    const argmax = (a: ArrayLike<number>, r: number): number => {
      let best = 0;
      for (let j = 1; j < 10; j++) if (a[r * 10 + j] > a[r * 10 + best]) best = j;
      return best;
    };
    for (let row = 0; row < 200; row++) expect(argmax(theirs, row)).toBe(argmax(ours.data, row));
  });
});

describe('flotilla train: bad input gets a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bad-'));

  it('names the layer of a bad spec', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ input: [784], layers: [{ type: 'linear', out: 10 }, { type: 'conv2d' }] }));
    const r = runFlotilla(['train', '--local', '--config', path, '--out', join(dir, 'run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/layers\[1\] \(conv2d\): unknown layer type/);
  });

  it('names a missing config file and an invalid option', () => {
    const missing = runFlotilla(['train', '--local', '--config', join(dir, 'nope.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read config .*nope\.json: no such file/);
    const badOptimizer = runFlotilla(['train', '--local', '--optimizer', 'adamax', '--out', join(dir, 'run2')]);
    expect(badOptimizer.status).toBe(1);
    expect(badOptimizer.stderr).toMatch(/Unknown optimizer "adamax" \(expected one of/);
  });
});
