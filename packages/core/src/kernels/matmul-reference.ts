import type { FloatArray } from '../dtype.js';

/**
 * The plain triple loop: the definition every faster matmul is tested against.
 * Accumulates each dot product in a double in k order.
 */
export function matmulReference(
  a: FloatArray, b: FloatArray, c: FloatArray,
  m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i] : a[i * k + p];
        const bv = transB ? b[j * k + p] : b[p * n + j];
        s += av * bv;
      }
      c[i * n + j] = accumulate ? c[i * n + j] + s : s;
    }
  }
}
