import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJsonLine, runFlotilla } from '../src/run-flotilla.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-own-'));

describe('training on your own files (real process)', () => {
  it('a CSV of numeric features and a label column', () => {
    // Two Gaussian-free, separable classes: the label is the sign of x + y.
    const rows = ['x,y,label'];
    for (let i = 0; i < 400; i++) {
      const x = Math.sin(i * 1.3) * 2, y = Math.cos(i * 0.7) * 2;
      rows.push(`${x.toFixed(4)},${y.toFixed(4)},${x + y > 0 ? 'pos' : 'neg'}`);
    }
    const csv = join(dir, 'points.csv');
    writeFileSync(csv, `${rows.join('\n')}\n`);
    const spec = join(dir, 'linear.json');
    writeFileSync(spec, JSON.stringify({ input: [2], layers: [{ type: 'linear', out: 16 }, { type: 'tanh' }, { type: 'linear', out: 2 }] }));
    const r = runFlotilla(['train', '--local', '--data', `csv:${csv}#label`, '--config', spec, '--epochs', '30', '--batch', '32', '--lr', '0.01', '--out', join(dir, 'csv-run'), '--json']);
    expect(r.stderr).toMatch(/epoch 30\/30/);
    expect(r.status).toBe(0);
    expect(lastJsonLine(r.stdout).test_accuracy).toBeGreaterThan(0.9);
  });

  it('a CSV with a bad row names the file, the row and the problem', () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'x,y,label\n1,2,a\n3,oops,b\n');
    const r = runFlotilla(['train', '--local', '--data', `csv:${csv}#label`, '--out', join(dir, 'bad-run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv: row 3, column 'y': 'oops' is not a number/);
  });

  it('a model that does not fit the data is refused before training, naming both', () => {
    const words = join(dir, 'few.txt');
    writeFileSync(words, 'anna\nemma\nada\nbob\n');
    const spec = join(dir, 'wrong.json');
    writeFileSync(spec, JSON.stringify({ input: [8], inputKind: 'index', layers: [{ type: 'embedding', vocab: 27, dim: 4 }, { type: 'flatten' }, { type: 'linear', out: 27 }] }));
    const r = runFlotilla(['train', '--local', '--data', `lines:${words}`, '--config', spec, '--out', join(dir, 'wrong-run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/The model predicts 27 classes but data set lines:.*few\.txt has 8 \(vocabulary '\.abdemno'\)/);
  });

  it('a text file of words trains a character model that samples reproducibly', () => {
    const words = join(dir, 'words.txt');
    writeFileSync(words, ['anna', 'emma', 'ella', 'ada', 'otto', 'bob', 'hannah', 'abba', 'eve', 'nan'].join('\n').repeat(1) + '\n');
    const spec = join(dir, 'char.json');
    writeFileSync(spec, JSON.stringify({ input: [8], inputKind: 'index', layers: [
      { type: 'embedding', vocab: 12, dim: 4 }, { type: 'flatten' }, { type: 'linear', out: 32 }, { type: 'tanh' }, { type: 'linear', out: 12 },
    ] }));
    const out = join(dir, 'char-run');
    const r = runFlotilla(['train', '--local', '--data', `lines:${words}`, '--config', spec, '--epochs', '20', '--batch', '8', '--lr', '0.01', '--out', out, '--json']);
    expect(r.status).toBe(0);
    expect(lastJsonLine(r.stdout).val_loss).toBeGreaterThan(0);
    const sample = (seed: string) => runFlotilla(['sample', join(out, 'checkpoints', 'final.safetensors'), '--n', '12', '--seed', seed, '--json']);
    const a = JSON.parse(sample('3').stdout) as string[];
    expect(a).toHaveLength(12);
    expect(JSON.parse(sample('3').stdout)).toEqual(a);
    expect(JSON.parse(sample('4').stdout)).not.toEqual(a);
    expect(a.every((w) => /^[abdehlmnotv]*$/.test(w))).toBe(true);
  });
});
