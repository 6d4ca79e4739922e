import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { matmulKernelLabel, matmulWasm, useMatmulKernel } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { makeRandom } from '../../core/test/helpers.js';
import {
  check64, droppedTermRatios, expectAllFlagsClose32, expectNonFiniteLikeReference, rand32,
} from '../../core/test/matmul-support.js';
import { matmulOpenBlas, openBlasUnavailable, registerOpenBlas } from '../src/index.js';

/** Whether the dynamic linker knows an OpenBLAS here (Debian: libopenblas0-pthread, which .ci/run installs). */
function systemHasOpenBlas(): boolean {
  const r = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  return r.status === 0 && /\blibopenblas\.so\.0\b/.test(r.stdout);
}

/** Whether node-gyp's tools are here (python3, make, a C compiler): then the addon must have been built. */
function systemCanBuildAddons(): boolean {
  return spawnSync('sh', ['-c', 'command -v python3 && command -v make && (command -v cc || command -v gcc)'], { stdio: 'ignore' }).status === 0;
}

const native = openBlasUnavailable() === null;

describe('@flotilla/blas: OpenBLAS behind the kernel seam', () => {
  it('loads wherever the machine has OpenBLAS and can build the addon, and says why not elsewhere', () => {
    if (systemHasOpenBlas() && systemCanBuildAddons()) {
      expect(openBlasUnavailable()).toBeNull();
      // Its own checks, which the WebAssembly fallback does not make.
      const x = new Float32Array(6);
      expect(() => matmulOpenBlas(x, x, new Float32Array(3), 2, 2, 3, false, false, false)).toThrow('sgemm: an array is shorter than its m, n and k need');
      for (const bad of [Number.NaN, 2.5, -1, 2 ** 31, Infinity]) {
        expect(() => matmulOpenBlas(x, x, x, bad, 1, 1, false, false, false), String(bad)).toThrow('sgemm: m, n and k must be integers from 0 to 2^31 - 1');
      }
    } else {
      expect(openBlasUnavailable()).toMatch(/no OpenBLAS library|native addon is not built/);
    }
  });

  it('names the library it could not open', () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { openBlasUnavailable } from ${JSON.stringify(index)}; console.log(openBlasUnavailable());`], {
      encoding: 'utf8', env: { ...process.env, FLOTILLA_BLAS_LIB: '/nonexistent/libnope.so' }, timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/nonexistent\/libnope\.so|native addon is not built/);
  });

  it('loads OpenBLAS only in a process that chooses it, and without a thread pool', () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const core = fileURLToPath(new URL('../../core/dist/index.js', import.meta.url));
    const script = `
      import { readFileSync } from 'node:fs';
      import { registerOpenBlas, openBlasUnavailable } from ${JSON.stringify(index)};
      import { useMatmulKernel } from ${JSON.stringify(core)};
      const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libopenblas');
      const threads = () => Number(/^Threads:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
      registerOpenBlas();
      const before = { mapped: mapped(), threads: threads() };
      let chosen = null;
      try { chosen = useMatmulKernel('openblas'); } catch (error) { chosen = error.message; }
      console.log(JSON.stringify({ before, after: { mapped: mapped(), threads: threads() }, chosen, env: process.env.OPENBLAS_NUM_THREADS ?? null, why: openBlasUnavailable() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '4' }, timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { before: { mapped: boolean; threads: number }; after: { mapped: boolean; threads: number }; chosen: string; env: string; why: string | null };
    expect(got.before.mapped).toBe(false); // registered, not loaded
    if (got.why === null) {
      expect(got.chosen).toBe('openblas');
      expect(got.after.mapped).toBe(true);
      expect(got.after.threads).toBe(got.before.threads); // OPENBLAS_NUM_THREADS=1 first: no pool polling in the background
      expect(got.env).toBe('1');
    } else {
      expect(got.chosen).toBe(`matmul kernel "openblas" is unavailable here: ${got.why}`);
    }
  });

  // f32Tol (core's test/matmul-support.ts) is 8·(1 + √K)·u·Σ|a||b|. OpenBLAS sums each dot
  // product in float32 with fused multiply-adds over a few register accumulators, so its
  // rounding error grows like √K·u·Σ|a||b| on these random signs, far inside the tolerance,
  // which still rejects one dropped product (below).
  // Without OpenBLAS here these test the kernel's fallback, the WebAssembly one, and say so.
  const path = native ? 'cblas_sgemm' : 'no OpenBLAS here, so the WebAssembly fallback';
  const SHAPES: Array<[number, number, number]> = [
    [1, 1, 1], [2, 2, 2], [7, 13, 5], [5, 7, 13], [4, 8, 256], [5, 9, 257], [33, 65, 17], [1, 40, 7], [40, 1, 7],
    [2, 9, 300], [63, 65, 255], [64, 8, 1100], [130, 520, 520], [257, 10, 33], [12, 513, 40],
  ];
  for (const [m, n, k] of SHAPES) {
    it(`${m}×${k} · ${k}×${n} (${path}): all transpose flags, overwriting and accumulating, against the triple loop`, () => {
      expectAllFlagsClose32(matmulOpenBlas, m, n, k);
    });
  }

  it('rejects a dropped product, propagates NaN and ∞ where the triple loop does, and leaves float64 to the WebAssembly kernel', () => {
    const { intact, dropped } = droppedTermRatios(matmulOpenBlas);
    expect(intact).toBeLessThanOrEqual(1);
    expect(dropped).toBeGreaterThan(1);
    expectNonFiniteLikeReference(matmulOpenBlas, 9, 11, 7);
    expect(check64(matmulOpenBlas, 6, 5, 4, true, false, true, makeRandom(3))).toBeLessThanOrEqual(1);
  });

  it('reads views at an offset into shared memory, writes only C, and does the empty products', () => {
    const m = 5, n = 6, k = 7, rand = makeRandom(11);
    const shared = new Float32Array(new SharedArrayBuffer(4 * (3 + m * k)), 0).subarray(3); // as the worker's parameters
    shared.set(rand32(m * k, rand));
    const b = rand32(k * n, rand), c = new Float32Array(2 + m * n + 2).fill(NaN);
    const view = c.subarray(2, 2 + m * n);
    matmulOpenBlas(shared, b, view, m, n, k, false, false, false); // C is not read: NaN stays out
    const want = new Float32Array(m * n);
    matmulWasm(shared, b, want, m, n, k, false, false, false);
    for (let i = 0; i < m * n; i++) expect(Math.abs(view[i] - want[i])).toBeLessThan(1e-5);
    expect([c[0], c[1], c[c.length - 2], c[c.length - 1]].every(Number.isNaN)).toBe(true);
    const empty = new Float32Array(m * n).fill(3);
    matmulOpenBlas(new Float32Array(0), new Float32Array(0), empty, m, n, 0, false, false, true);
    expect(empty.every((v) => v === 3)).toBe(true);
    matmulOpenBlas(new Float32Array(0), new Float32Array(0), empty, m, n, 0, false, false, false);
    expect(empty.every((v) => v === 0)).toBe(true);
  });

  it('gives every worker thread the same products as the main thread, two threads at once', async () => {
    const m = 64, n = 96, k = 200, rand = makeRandom(5);
    const a = rand32(m * k, rand), b = rand32(k * n, rand);
    const want = new Float32Array(m * n);
    matmulOpenBlas(a, b, want, m, n, k, false, true, false);
    const index = new URL('../dist/index.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(${JSON.stringify(index)}).then(({ matmulOpenBlas, openBlasUnavailable }) => {
        const { a, b, m, n, k } = workerData;
        let c;
        for (let r = 0; r < 20; r++) { c = new Float32Array(m * n); matmulOpenBlas(a, b, c, m, n, k, false, true, false); }
        parentPort.postMessage({ c, unavailable: openBlasUnavailable() });
      });`;
    const run = (): Promise<{ c: Float32Array; unavailable: string | null }> => new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { a, b, m, n, k } });
      worker.once('message', (result) => { void worker.terminate(); resolve(result); });
      worker.once('error', reject);
    });
    const results = await Promise.all([run(), run()]);
    for (const { c, unavailable } of results) {
      expect(unavailable).toBe(openBlasUnavailable());
      expect(Array.from(c)).toEqual(Array.from(want));
    }
  }, 30_000);

  it('is `openblas` to FLOTILLA_MATMUL once registered, or a refusal that says why', () => {
    registerOpenBlas();
    try {
      if (native) {
        expect(useMatmulKernel('openblas')).toBe('openblas');
        expect(matmulKernelLabel()).toBe('openblas');
      } else {
        expect(() => useMatmulKernel('openblas')).toThrow(`matmul kernel "openblas" is unavailable here: ${openBlasUnavailable()}`);
      }
    } finally {
      useMatmulKernel('wasm');
    }
    expect(matmulKernelLabel()).toMatch(/^wasm-/);
  });
});
