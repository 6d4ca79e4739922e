import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJsonLine, runFlotilla } from '../src/run-flotilla.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-kernels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flotilla bench kernels', () => {
  it('reports matmul, the memory-bound ops and the training of the default model and of the WaveNet example', () => {
    const r = runFlotilla(['bench', 'kernels', '--sizes', '128', '--json'], { timeoutMs: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = lastJsonLine(r.stdout) as {
      matmul: Array<{ n: number; gflops: number }>; memory: Array<{ op: string; gb_per_sec: number }>;
      train: { batch: number; samples_per_sec: number }; train_char: { config: string; batch: number; steps: number; samples_per_sec: number };
    };
    expect(out.matmul.map((m) => m.n)).toEqual([128]);
    expect(out.memory.map((m) => m.op.split(' ')[0])).toEqual(['relu', 'tanh', 'sum']);
    for (const m of out.memory) expect(m.gb_per_sec).toBeGreaterThan(0);
    expect(out.train.batch).toBe(256);
    // The example's own batch, and the 300 timed steps of the smaller model.
    expect(out.train_char.config).toMatch(/examples\/wavenet-names\.json$/);
    expect(out.train_char).toMatchObject({ batch: 64, steps: 300 });
    expect(out.train_char.samples_per_sec).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/training, .*wavenet-names\.json \(names\), batch 64, one thread: \d+ samples\/s/);
  }, 200_000);

  it('--char-config names another character model, or none, and a config that is not there is named', () => {
    const flat = join(dir, 'flat.json');
    writeFileSync(flat, JSON.stringify({ dataset: 'names', batch: 32, model: {
      input: [8], inputKind: 'index', layers: [{ type: 'embedding', vocab: 27, dim: 4 }, { type: 'flatten' }, { type: 'linear', out: 27 }],
    } }));
    const other = runFlotilla(['bench', 'kernels', '--sizes', '128', '--char-config', flat, '--json'], { timeoutMs: 180_000 });
    expect(other.status, other.stderr).toBe(0);
    expect(lastJsonLine(other.stdout).train_char).toMatchObject({ config: flat, batch: 32 });
    const none = runFlotilla(['bench', 'kernels', '--sizes', '128', '--char-config', 'none', '--json'], { timeoutMs: 180_000 });
    expect(none.status, none.stderr).toBe(0);
    expect(lastJsonLine(none.stdout).train_char).toBeNull();
    const missing = runFlotilla(['bench', 'kernels', '--sizes', '128', '--char-config', join(dir, 'nope.json')], { timeoutMs: 180_000 });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(join(dir, 'nope.json'));
  }, 400_000);

  it('refuses FLOTILLA_MATMUL=openblas where no OpenBLAS can be loaded, naming the library (or saying the addon is not built)', () => {
    const r = runFlotilla(['bench', 'kernels', '--sizes', '128'], { timeoutMs: 60_000, env: { FLOTILLA_MATMUL: 'openblas', FLOTILLA_BLAS_LIB: '/nonexistent/libopenblas.so' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^flotilla: FLOTILLA_MATMUL: matmul kernel "openblas" is unavailable here: (no OpenBLAS library \(\/nonexistent\/libopenblas\.so|the native addon is not built)/m);
    expect(r.stdout).toBe('');
  }, 120_000);
});
