import type { FloatArray } from '../dtype.js';

/**
 * The kernel seam (DESIGN 4): every hot loop of autodiff and layers goes through one of
 * these, so a faster implementation (blocked TypeScript, WebAssembly SIMD) replaces it
 * without touching ops or layers. Kernels write into buffers they are given and never
 * allocate in their loops. All are row-major.
 */
export interface Kernels {
  /**
   * C = op(A)·op(B), or C += op(A)·op(B) when `accumulate`. op(A) is M×K: A is stored M×K,
   * or K×M when `transA`. op(B) is K×N: B is stored K×N, or N×K when `transB`.
   */
  matmul(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void;
}
