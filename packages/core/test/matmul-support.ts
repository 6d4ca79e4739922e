/**
 * Shared by the matmul kernel tests (src/kernels/matmul-blocked.test.ts and
 * matmul-wasm.test.ts): seeded inputs, the error scale and tolerances they compare against
 * matmulReference with, and the checks both kernels must pass in the same form.
 */
import { expect } from 'vitest';
import type { FloatArray } from '../src/dtype.js';
import { matmulReference } from '../src/kernels/matmul-reference.js';
import type { Kernels } from '../src/kernels/types.js';
import { makeRandom } from './helpers.js';

export type MatmulKernel = Kernels['matmul'];

/** n values uniform in [-1, 1), drawn from `rand`. */
export function randomArray<T extends FloatArray>(make: (n: number) => T, n: number, rand: () => number): T {
  const x = make(n);
  for (let i = 0; i < n; i++) x[i] = rand() * 2 - 1;
  return x;
}
export const rand32 = (n: number, rand: () => number): Float32Array => randomArray((len) => new Float32Array(len), n, rand);
const rand64 = (n: number, rand: () => number): Float64Array => randomArray((len) => new Float64Array(len), n, rand);

/** S_ij = Σp |op(A)_ip|·|op(B)_pj| (+ |C0_ij| when accumulating): the scale of C_ij's rounding error. */
export function errorScale(
  a: FloatArray, b: FloatArray, c0: FloatArray,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean,
): Float64Array {
  const s = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let t = accumulate ? Math.abs(c0[i * n + j]) : 0;
      for (let p = 0; p < k; p++) {
        t += Math.abs(transA ? a[p * m + i] : a[i * k + p]) * Math.abs(transB ? b[j * k + p] : b[p * n + j]);
      }
      s[i * n + j] = t;
    }
  }
  return s;
}

/**
 * Largest |got − want| / (tol·S) over C; ≤ 1 passes. A NaN difference makes the result NaN
 * (Math.max propagates it), which fails both `≤ 1` and `> 1`.
 */
export function worstRatio(got: FloatArray, want: FloatArray, scale: Float64Array, relTol: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const allowed = relTol * scale[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / allowed);
  }
  return worst;
}

const U32 = 2 ** -24; // unit roundoff of float32
/**
 * float32 tolerance relative to S = Σ|a||b| (+|C0|): 8·(1 + √K)·u·S. Each test file says why
 * its kernel's error stays below it; it is far below one product |a_ip·b_pj| ≈ S/K, so a
 * dropped, doubled or misplaced term fails.
 */
export const f32Tol = (k: number): number => 8 * (1 + Math.sqrt(k)) * U32;
/** float64 tolerance: the same argument with u = 2^-53, generously rounded up. */
const f64Tol = (k: number): number => 1e-13 * (1 + Math.sqrt(k));

/** [transA, transB]: all four combinations. */
export const FLAGS: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];

/** worstRatio of `kernel` against matmulReference on A, B, C0 made by `random` from `rand`. */
function checkWith<T extends FloatArray>(
  kernel: MatmulKernel, random: (n: number, rand: () => number) => T, tol: number,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, rand: () => number,
): number {
  const a = random(m * k, rand);
  const b = random(k * n, rand);
  const c0 = random(m * n, rand);
  const want = c0.slice();
  const got = c0.slice();
  matmulReference(a, b, want, m, n, k, transA, transB, accumulate);
  kernel(a, b, got, m, n, k, transA, transB, accumulate);
  return worstRatio(got, want, errorScale(a, b, c0, m, n, k, transA, transB, accumulate), tol);
}

/** checkWith on float32 operands drawn from makeRandom(seed), against f32Tol. */
export function check32(
  kernel: MatmulKernel,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number,
): number {
  return checkWith(kernel, rand32, f32Tol(k), m, n, k, transA, transB, accumulate, makeRandom(seed));
}

/** checkWith on float64 operands drawn from `rand`, against f64Tol. */
export function check64(
  kernel: MatmulKernel,
  m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, rand: () => number,
): number {
  return checkWith(kernel, rand64, f64Tol(k), m, n, k, transA, transB, accumulate, rand);
}

/**
 * check32 ≤ 1 for all four transpose flags, overwriting and accumulating; the seeds are
 * m·1000003 + n·1009 + k and the seven after it, in that order.
 */
export function expectAllFlagsClose32(kernel: MatmulKernel, m: number, n: number, k: number): void {
  let seed = m * 1_000_003 + n * 1009 + k;
  for (const [transA, transB] of FLAGS) {
    for (const accumulate of [false, true]) {
      const ratio = check32(kernel, m, n, k, transA, transB, accumulate, seed++);
      expect(ratio, `transA=${transA} transB=${transB} accumulate=${accumulate}`).toBeLessThanOrEqual(1);
    }
  }
}

/**
 * worstRatio (f32Tol) of `kernel` on a 33×600 · 600×7 product (makeRandom(7), no transposes,
 * overwriting): as computed (`intact`), and after dropping the p = 17 term of C[0, 5]
 * (`dropped`), which a tolerance far below one term must reject.
 */
export function droppedTermRatios(kernel: MatmulKernel): { intact: number; dropped: number } {
  const m = 33, n = 7, k = 600;
  const rand = makeRandom(7);
  const a = rand32(m * k, rand);
  const b = rand32(k * n, rand);
  const c0 = new Float32Array(m * n);
  const want = new Float32Array(m * n);
  matmulReference(a, b, want, m, n, k, false, false, false);
  const got = new Float32Array(m * n);
  kernel(a, b, got, m, n, k, false, false, false);
  const scale = errorScale(a, b, c0, m, n, k, false, false, false);
  const intact = worstRatio(got, want, scale, f32Tol(k));
  got[5] -= a[0 * k + 17] * b[17 * n + 5]; // drop the p = 17 term of C[0, 5]
  return { intact, dropped: worstRatio(got, want, scale, f32Tol(k)) };
}

/**
 * With an Inf in A's last element and a NaN in B's first, `kernel` gives NaN, ±Inf and finite
 * values in exactly the entries matmulReference does (so padding stays out), for all flags.
 */
export function expectNonFiniteLikeReference(kernel: MatmulKernel, m: number, n: number, k: number): void {
  for (const [transA, transB] of FLAGS) {
    const rand = makeRandom(m * n * k);
    const a = rand32(m * k, rand);
    const b = rand32(k * n, rand);
    a[a.length - 1] = Infinity; // last row of op(A) (or last column when transA)
    b[0] = NaN;
    const want = new Float32Array(m * n);
    const got = new Float32Array(m * n);
    matmulReference(a, b, want, m, n, k, transA, transB, false);
    kernel(a, b, got, m, n, k, transA, transB, false);
    const pattern = (x: Float32Array): string => Array.from(x, (v) => (Number.isNaN(v) ? 'n' : Number.isFinite(v) ? '.' : 'i')).join('');
    expect(pattern(got)).toBe(pattern(want));
  }
}

/** Rows i0..i1 of op(A), stored the way `transA` says (M×K, or K×M). */
function rowsOfOpA(a: Float32Array, m: number, k: number, transA: boolean, i0: number, i1: number): Float32Array {
  if (!transA) return a.subarray(i0 * k, i1 * k);
  const w = i1 - i0;
  const out = new Float32Array(k * w);
  for (let p = 0; p < k; p++) for (let i = 0; i < w; i++) out[p * w + i] = a[p * m + i0 + i];
  return out;
}

/** Columns j0..j1 of op(B), stored the way `transB` says (K×N, or N×K). */
function colsOfOpB(b: Float32Array, n: number, k: number, transB: boolean, j0: number, j1: number): Float32Array {
  if (transB) return b.subarray(j0 * k, j1 * k);
  const w = j1 - j0;
  const out = new Float32Array(k * w);
  for (let p = 0; p < k; p++) for (let j = 0; j < w; j++) out[p * w + j] = b[p * n + j0 + j];
  return out;
}

/**
 * C[i, j] does not depend on M or N, bit for bit: for all flags, overwriting and accumulating,
 * `kernel` on row blocks of op(A) and on column blocks of op(B) (block sizes cycling through
 * `pieces`) gives exactly the matching rows and columns of the whole product.
 */
export function expectSplitsBitIdentical(kernel: MatmulKernel, m: number, n: number, k: number, pieces: readonly number[]): void {
  const rand = makeRandom(m * n + k);
  for (const [transA, transB] of FLAGS) {
    for (const accumulate of [false, true]) {
      const a = rand32(m * k, rand);
      const b = rand32(k * n, rand);
      const c0 = rand32(m * n, rand);
      const full = c0.slice();
      kernel(a, b, full, m, n, k, transA, transB, accumulate);
      for (let i0 = 0, s = 0; i0 < m; s++) {
        const i1 = Math.min(m, i0 + pieces[s % pieces.length]);
        const part = c0.slice(i0 * n, i1 * n);
        kernel(rowsOfOpA(a, m, k, transA, i0, i1), b, part, i1 - i0, n, k, transA, transB, accumulate);
        expect(part, `rows ${i0}..${i1} transA=${transA} transB=${transB}`).toEqual(full.slice(i0 * n, i1 * n));
        i0 = i1;
      }
      for (let j0 = 0, s = 0; j0 < n; s++) {
        const j1 = Math.min(n, j0 + pieces[s % pieces.length]);
        const w = j1 - j0;
        const part = new Float32Array(m * w);
        const want = new Float32Array(m * w);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < w; j++) {
            part[i * w + j] = c0[i * n + j0 + j];
            want[i * w + j] = full[i * n + j0 + j];
          }
        }
        kernel(a, colsOfOpB(b, n, k, transB, j0, j1), part, m, w, k, transA, transB, accumulate);
        expect(part, `cols ${j0}..${j1} transA=${transA} transB=${transB}`).toEqual(want);
        j0 = j1;
      }
    }
  }
}
