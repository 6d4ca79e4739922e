import { describe, expect, it } from 'vitest';
import type { FloatArray } from '../dtype.js';
import { kernels, useMatmulKernel } from './index.js';
import { matmulBlocked } from './matmul-blocked.js';
import { matmulReference } from './matmul-reference.js';
import { matmulWasm } from './matmul-wasm.js';

/** mulberry32: a small seeded generator so every run checks the same matrices. */
function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomArray<T extends FloatArray>(make: (n: number) => T, n: number, rand: () => number): T {
  const x = make(n);
  for (let i = 0; i < n; i++) x[i] = rand() * 2 - 1;
  return x;
}

/** S_ij = Σp |op(A)_ip|·|op(B)_pj| (+ |C0_ij| when accumulating): the scale of C_ij's rounding error. */
function errorScale(
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

/** Largest |got − want| / (tol·S) over C; ≤ 1 passes. */
function worstRatio(got: FloatArray, want: FloatArray, scale: Float64Array, relTol: number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const allowed = relTol * scale[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / allowed);
  }
  return worst;
}

const U32 = 2 ** -24; // unit roundoff of float32
/**
 * float32 tolerance, relative to S = Σ|a||b| (+|C0|). Both kernels sum in double, so the
 * difference comes from float32 roundings of partial sums: the reference rounds once, the
 * blocked kernel once per K block (KC = 256) plus once when accumulating, each ≤ u·S. That is
 * (⌈K/256⌉ + 2)·u·S, below 8·(1 + √K)·u·S for every K here; the latter also covers a
 * kernel that sums in float32 (typical error √K·u·S). Yet it is far below one product
 * |a_ip·b_pj| ≈ S/K, so a dropped, doubled or misplaced term fails.
 */
const f32Tol = (k: number): number => 8 * (1 + Math.sqrt(k)) * U32;
/** float64 tolerance: same argument with u = 2^-53, generously rounded up. */
const f64Tol = (k: number): number => 1e-13 * (1 + Math.sqrt(k));

const FLAGS: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];

/** [m, n, k]: tiny, odd, around the 4×3 tile, the K block (256), M block (64) and N block (384). */
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 1, 9], [2, 2, 2], [7, 13, 5], [5, 7, 13], [3, 3, 3],
  [4, 3, 1], [4, 3, 256], [5, 4, 257], [3, 2, 255],
  [1, 40, 7], [40, 1, 7], [2, 9, 300], [9, 2, 300], [1, 17, 600], [17, 1, 600],
  [63, 65, 255], [65, 63, 257], [64, 384, 256],
  [130, 390, 520], [257, 10, 33], [10, 257, 33], [33, 7, 600],
];

function check32(m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number): number {
  const rand = makeRandom(seed);
  const a = randomArray((len) => new Float32Array(len), m * k, rand);
  const b = randomArray((len) => new Float32Array(len), k * n, rand);
  const c0 = randomArray((len) => new Float32Array(len), m * n, rand);
  const want = c0.slice();
  const got = c0.slice();
  matmulReference(a, b, want, m, n, k, transA, transB, accumulate);
  matmulBlocked(a, b, got, m, n, k, transA, transB, accumulate);
  return worstRatio(got, want, errorScale(a, b, c0, m, n, k, transA, transB, accumulate), f32Tol(k));
}

describe('matmulBlocked (float32) against matmulReference', () => {
  for (const [m, n, k] of SHAPES) {
    it(`${m}×${k} · ${k}×${n}, all transpose flags, overwrite and accumulate`, () => {
      let seed = m * 1_000_003 + n * 1009 + k;
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          const ratio = check32(m, n, k, transA, transB, accumulate, seed++);
          expect(ratio, `transA=${transA} transB=${transB} accumulate=${accumulate}`).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it('detects a single wrong product: the tolerance is far below one term', () => {
    // Guards the test itself: if f32Tol were loose enough to hide a dropped term, the
    // comparisons above would prove little.
    const m = 33, n = 7, k = 600;
    const rand = makeRandom(7);
    const a = randomArray((len) => new Float32Array(len), m * k, rand);
    const b = randomArray((len) => new Float32Array(len), k * n, rand);
    const c0 = new Float32Array(m * n);
    const want = new Float32Array(m * n);
    matmulReference(a, b, want, m, n, k, false, false, false);
    const got = new Float32Array(m * n);
    matmulBlocked(a, b, got, m, n, k, false, false, false);
    got[5] -= a[0 * k + 17] * b[17 * n + 5]; // drop the p = 17 term of C[0, 5]
    expect(worstRatio(got, want, errorScale(a, b, c0, m, n, k, false, false, false), f32Tol(k))).toBeGreaterThan(1);
  });

  it('writes only the m×n result, leaves A and B untouched, and works on subarray views', () => {
    const m = 13, n = 11, k = 300;
    const rand = makeRandom(11);
    for (const [transA, transB] of FLAGS) {
      const aBuf = randomArray((len) => new Float32Array(len), m * k + 3, rand);
      const bBuf = randomArray((len) => new Float32Array(len), k * n + 5, rand);
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
    expect(check32(200, 400, 700, true, true, false, 1)).toBeLessThanOrEqual(1);
    for (const [m, n, k] of [[5, 5, 3], [6, 4, 2], [3, 3, 1]] as const) {
      for (const [transA, transB] of FLAGS) {
        expect(check32(m, n, k, transA, transB, false, m + n + k)).toBeLessThanOrEqual(1);
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
      for (const [transA, transB] of FLAGS) {
        const rand = makeRandom(m * n * k);
        const a = randomArray((len) => new Float32Array(len), m * k, rand);
        const b = randomArray((len) => new Float32Array(len), k * n, rand);
        a[a.length - 1] = Infinity; // last row of op(A) (or last column when transA)
        b[0] = NaN;
        const want = new Float32Array(m * n);
        const got = new Float32Array(m * n);
        matmulReference(a, b, want, m, n, k, transA, transB, false);
        matmulBlocked(a, b, got, m, n, k, transA, transB, false);
        const pattern = (x: Float32Array): string => Array.from(x, (v) => (Number.isNaN(v) ? 'n' : Number.isFinite(v) ? '.' : 'i')).join('');
        expect(pattern(got)).toBe(pattern(want));
      }
    }
  });
});

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

describe('matmulBlocked: C[i, j] does not depend on M or N (bitwise)', () => {
  // A batch split into shards of any size (1 and 2 rows take the matrix-vector path, 3+
  // the tiles) must give the same rows, bit for bit, as the whole batch.
  const pieces = [1, 2, 3, 5, 64, 4, 7];
  for (const [m, n, k] of [[90, 29, 600], [11, 75, 300], [70, 400, 257]] as const) {
    it(`${m}×${k} · ${k}×${n} split into row blocks and column blocks`, () => {
      const rand = makeRandom(m * n + k);
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          const a = randomArray((len) => new Float32Array(len), m * k, rand);
          const b = randomArray((len) => new Float32Array(len), k * n, rand);
          const c0 = randomArray((len) => new Float32Array(len), m * n, rand);
          const full = c0.slice();
          matmulBlocked(a, b, full, m, n, k, transA, transB, accumulate);
          for (let i0 = 0, s = 0; i0 < m; s++) {
            const i1 = Math.min(m, i0 + pieces[s % pieces.length]);
            const part = c0.slice(i0 * n, i1 * n);
            matmulBlocked(rowsOfOpA(a, m, k, transA, i0, i1), b, part, i1 - i0, n, k, transA, transB, accumulate);
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
            matmulBlocked(a, colsOfOpB(b, n, k, transB, j0, j1), part, m, w, k, transA, transB, accumulate);
            expect(part, `cols ${j0}..${j1} transA=${transA} transB=${transB}`).toEqual(want);
            j0 = j1;
          }
        }
      }
    });
  }
});

describe('matmulBlocked (float64) against matmulReference', () => {
  for (const [m, n, k] of [[1, 1, 1], [7, 13, 5], [5, 4, 257], [2, 9, 300], [65, 63, 257]] as const) {
    it(`${m}×${k} · ${k}×${n}, all transpose flags, overwrite and accumulate`, () => {
      const rand = makeRandom(m + 31 * n + 961 * k);
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          const a = randomArray((len) => new Float64Array(len), m * k, rand);
          const b = randomArray((len) => new Float64Array(len), k * n, rand);
          const c0 = randomArray((len) => new Float64Array(len), m * n, rand);
          const want = c0.slice();
          const got = c0.slice();
          matmulReference(a, b, want, m, n, k, transA, transB, accumulate);
          matmulBlocked(a, b, got, m, n, k, transA, transB, accumulate);
          const scale = errorScale(a, b, c0, m, n, k, transA, transB, accumulate);
          expect(worstRatio(got, want, scale, f64Tol(k))).toBeLessThanOrEqual(1);
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
      expect(() => useMatmulKernel('fast')).toThrow('Unknown matmul kernel "fast" (expected wasm, blocked, reference)');
      expect(kernels.matmul).toBe(matmulReference); // a bad name changes nothing
      expect(useMatmulKernel(undefined)).toBe('wasm');
      expect(kernels.matmul).toBe(matmulWasm);
    } finally {
      useMatmulKernel('wasm');
    }
  });
});
