import { describe, expect, it } from 'vitest';
import { makeRandom } from '../../test/helpers.js';
import {
  check32, check64, droppedTermRatios, errorScale, expectAllFlagsClose32, expectNonFiniteLikeReference, expectSplitsBitIdentical, f32Tol, FLAGS, rand32,
  worstRatio,
} from '../../test/matmul-support.js';
import { kernels, matmulKernelLabel, registerMatmulKernel, useKernels, useMatmulKernel } from './index.js';
import { matmulBlocked } from './matmul-blocked.js';
import { matmulReference } from './matmul-reference.js';
import { matmulWasm, matmulWasmBuild, matmulWasmSimd } from './matmul-wasm.js';

/*
 * f32Tol (test/matmul-support.ts) is 8·(1 + √K)·u·S with S = Σ|a||b| (+|C0|). Both kernels sum
 * in double, so the difference comes from float32 roundings of partial sums: the reference
 * rounds once, the blocked kernel once per K block (KC = 256) plus once when accumulating, each
 * ≤ u·S. That is (⌈K/256⌉ + 2)·u·S, below f32Tol for every K here; f32Tol also covers a
 * kernel that sums in float32 (typical error √K·u·S). Yet it is far below one product
 * |a_ip·b_pj| ≈ S/K, so a dropped, doubled or misplaced term fails.
 */

/** [m, n, k]: tiny, odd, around the 4×3 tile, the K block (256), M block (64) and N block (384). */
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 1, 9], [2, 2, 2], [7, 13, 5], [5, 7, 13], [3, 3, 3],
  [4, 3, 1], [4, 3, 256], [5, 4, 257], [3, 2, 255],
  [1, 40, 7], [40, 1, 7], [2, 9, 300], [9, 2, 300], [1, 17, 600], [17, 1, 600],
  [63, 65, 255], [65, 63, 257], [64, 384, 256],
  [130, 390, 520], [257, 10, 33], [10, 257, 33], [33, 7, 600],
];

describe('matmulBlocked (float32) against matmulReference', () => {
  for (const [m, n, k] of SHAPES) {
    it(`${m}×${k} · ${k}×${n}, all transpose flags, overwrite and accumulate`, () => {
      expectAllFlagsClose32(matmulBlocked, m, n, k);
    });
  }

  it('detects a single wrong product: the tolerance is far below one term', () => {
    // Guards the test itself: if f32Tol were loose enough to hide a dropped term, the
    // comparisons above would prove little.
    expect(droppedTermRatios(matmulBlocked).dropped).toBeGreaterThan(1);
  });

  it('writes only the m×n result, leaves A and B untouched, and works on subarray views', () => {
    const m = 13, n = 11, k = 300;
    const rand = makeRandom(11);
    for (const [transA, transB] of FLAGS) {
      const aBuf = rand32(m * k + 3, rand);
      const bBuf = rand32(k * n + 5, rand);
      const cBuf = new Float32Array(m * n + 7).fill(42);
      const a = aBuf.subarray(3);
      const b = bBuf.subarray(5);
      const c = cBuf.subarray(2, 2 + m * n);
      const aCopy = aBuf.slice();
      const bCopy = bBuf.slice();
      matmulBlocked(a, b, c, m, n, k, transA, transB, false);
      const want = new Float32Array(m * n);
      matmulReference(a, b, want, m, n, k, transA, transB, false);
      const scale = errorScale(a, b, want, m, n, k, transA, transB, false);
      expect(worstRatio(c, want, scale, f32Tol(k))).toBeLessThanOrEqual(1);
      expect(Array.from(cBuf.subarray(0, 2))).toEqual([42, 42]);
      expect(Array.from(cBuf.subarray(2 + m * n))).toEqual([42, 42, 42, 42, 42]);
      expect(aBuf).toEqual(aCopy);
      expect(bBuf).toEqual(bCopy);
    }
  });

  it('does not leak packed data from a larger previous call into a smaller one', () => {
    expect(check32(matmulBlocked, 200, 400, 700, true, true, false, 1)).toBeLessThanOrEqual(1);
    for (const [m, n, k] of [[5, 5, 3], [6, 4, 2], [3, 3, 1]] as const) {
      for (const [transA, transB] of FLAGS) {
        expect(check32(matmulBlocked, m, n, k, transA, transB, false, m + n + k)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('k = 0 gives C = 0, or leaves C alone when accumulating; m = 0 or n = 0 writes nothing', () => {
    const c = Float32Array.from([1, 2, 3, 4, 5, 6]);
    matmulBlocked(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, false, true);
    expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6]);
    matmulBlocked(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, true, false);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
    const d = Float32Array.from([7]);
    matmulBlocked(new Float32Array(5), new Float32Array(0), d, 0, 1, 5, false, false, false);
    matmulBlocked(new Float32Array(0), new Float32Array(5), d, 1, 0, 5, true, true, false);
    expect(d[0]).toBe(7);
  });

  it('propagates Inf and NaN into exactly the entries the reference does (padding stays out)', () => {
    for (const [m, n, k] of [[6, 5, 9], [1, 7, 4], [7, 1, 4], [66, 389, 3]] as const) {
      expectNonFiniteLikeReference(matmulBlocked, m, n, k);
    }
  });
});

describe('matmulBlocked: C[i, j] does not depend on M or N (bitwise)', () => {
  // A batch split into shards of any size (1 and 2 rows take the matrix-vector path, 3+
  // the tiles) must give the same rows, bit for bit, as the whole batch.
  const pieces = [1, 2, 3, 5, 64, 4, 7];
  for (const [m, n, k] of [[90, 29, 600], [11, 75, 300], [70, 400, 257]] as const) {
    it(`${m}×${k} · ${k}×${n} split into row blocks and column blocks`, () => {
      expectSplitsBitIdentical(matmulBlocked, m, n, k, pieces);
    });
  }
});

describe('matmulBlocked (float64) against matmulReference', () => {
  for (const [m, n, k] of [[1, 1, 1], [7, 13, 5], [5, 4, 257], [2, 9, 300], [65, 63, 257]] as const) {
    it(`${m}×${k} · ${k}×${n}, all transpose flags, overwrite and accumulate`, () => {
      const rand = makeRandom(m + 31 * n + 961 * k);
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          expect(check64(matmulBlocked, m, n, k, transA, transB, accumulate, rand)).toBeLessThanOrEqual(1);
        }
      }
    });
  }
});

describe('kernel seam', () => {
  it('makes the WebAssembly SIMD kernel the default kernels.matmul', () => {
    expect(kernels.matmul).toBe(matmulWasm);
  });

  it('useMatmulKernel selects a kernel by name (FLOTILLA_MATMUL) and names the choices on a typo', () => {
    try {
      expect(useMatmulKernel('blocked')).toBe('blocked');
      expect(kernels.matmul).toBe(matmulBlocked);
      expect(useMatmulKernel('reference')).toBe('reference');
      expect(kernels.matmul).toBe(matmulReference);
      expect(useMatmulKernel('wasm-simd')).toBe('wasm-simd');
      expect(kernels.matmul).toBe(matmulWasmSimd);
      expect(useMatmulKernel('reference')).toBe('reference');
      expect(() => useMatmulKernel('fast')).toThrow('Unknown matmul kernel "fast" (expected wasm, wasm-simd, blocked, reference)');
      expect(kernels.matmul).toBe(matmulReference); // a bad name changes nothing
      expect(useMatmulKernel(undefined)).toBe('wasm');
      expect(kernels.matmul).toBe(matmulWasm);
    } finally {
      useMatmulKernel('wasm');
    }
  });

  it('matmulKernelLabel names the active kernel (what workers report to the coordinator)', () => {
    try {
      expect(matmulKernelLabel()).toBe(`wasm-${matmulWasmBuild()}`);
      useMatmulKernel('wasm-simd');
      expect(matmulKernelLabel()).toBe('wasm-simd');
      useMatmulKernel('blocked');
      expect(matmulKernelLabel()).toBe('blocked');
      useMatmulKernel('reference');
      expect(matmulKernelLabel()).toBe('reference');
      useKernels({ matmul: (...args) => matmulReference(...args) });
      expect(matmulKernelLabel()).toBe('custom');
    } finally {
      useMatmulKernel('wasm');
    }
  });

  it('registerMatmulKernel adds a named kernel, loaded when first chosen, or a name refused with the reason it cannot run (as @flotilla/blas does)', () => {
    const mine: typeof matmulReference = (...args) => matmulReference(...args);
    let loads = 0;
    try {
      registerMatmulKernel('test-native', () => { loads++; return mine; });
      expect(loads).toBe(0); // registering loads nothing: a process that never picks it pays nothing
      expect(useMatmulKernel('test-native')).toBe('test-native');
      expect(useMatmulKernel('test-native')).toBe('test-native');
      expect(loads).toBe(1);
      expect(kernels.matmul).toBe(mine);
      expect(matmulKernelLabel()).toBe('test-native'); // what a worker reports, so mixed kernels are named
      registerMatmulKernel('test-native', () => ({ unavailable: 'no such library here' }));
      expect(() => useMatmulKernel('test-native')).toThrow('matmul kernel "test-native" is unavailable here: no such library here');
      expect(kernels.matmul).toBe(mine); // a refusal changes nothing
      expect(() => useMatmulKernel('fast')).toThrow('Unknown matmul kernel "fast" (expected wasm, wasm-simd, blocked, reference, test-native)');
    } finally {
      registerMatmulKernel('test-native', () => ({ unavailable: 'test over' }));
      useMatmulKernel('wasm');
    }
  });
});
