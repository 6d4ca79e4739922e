import { describe, expect, it } from 'vitest';
import type { FloatArray } from '../dtype.js';
import { matmulReference } from './matmul-reference.js';
import { decodeBase64, matmulWasm, wasmMatmulAvailable } from './matmul-wasm.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';

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
const rand32 = (n: number, rand: () => number): Float32Array => randomArray((len) => new Float32Array(len), n, rand);

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
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, Number.isNaN(d) ? Infinity : d / allowed);
  }
  return worst;
}

const U32 = 2 ** -24; // unit roundoff of float32
/**
 * float32 tolerance relative to S = Σ|a||b| (+|C0|). The WebAssembly kernel rounds each
 * product to float32 (≤ u relative), sums runs of KU = 4 products in float32 (≤ 3 roundings
 * each), adds those in float64 (negligible), rounds each K block (256) sum to float32 once and
 * adds it into C in float32 (one rounding per block, one more for C0 when accumulating). The
 * worst case is therefore ≈ (4 + ⌈K/256⌉ + 1)·u·S ≤ 10·u·S for every K here (≤ 1100), below
 * 8·(1 + √K)·u·S for K ≥ 1 (the tolerance also used for matmulBlocked). It is still far below one
 * product |a_ip·b_pj| ≈ S/K for every K tested (K = 1100: 8·(1+33)/2^24 ≈ 1.6e-5 vs 1/K ≈ 9e-4),
 * so a dropped, doubled or misplaced term fails — a test below checks exactly that.
 */
const f32Tol = (k: number): number => 8 * (1 + Math.sqrt(k)) * U32;

const FLAGS: Array<[boolean, boolean]> = [[false, false], [false, true], [true, false], [true, true]];

/**
 * [m, n, k]: tiny, odd, around the 4×8 micro-tile, the K block (256, and K spanning several
 * blocks), the M block (64) and the N block (512).
 */
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 1, 9], [2, 2, 2], [7, 13, 5], [5, 7, 13], [3, 3, 3],
  [4, 8, 1], [4, 8, 256], [5, 9, 257], [3, 7, 255], [33, 65, 17],
  [1, 40, 7], [40, 1, 7], [2, 9, 300], [9, 2, 300], [1, 17, 600], [17, 1, 600],
  [63, 65, 255], [65, 63, 257], [64, 512, 256], [64, 8, 1100],
  [130, 520, 520], [257, 10, 33], [10, 257, 33], [257, 257, 257], [33, 7, 600], [12, 513, 40],
];

function check32(m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean, seed: number): number {
  const rand = makeRandom(seed);
  const a = rand32(m * k, rand);
  const b = rand32(k * n, rand);
  const c0 = rand32(m * n, rand);
  const want = c0.slice();
  const got = c0.slice();
  matmulReference(a, b, want, m, n, k, transA, transB, accumulate);
  matmulWasm(a, b, got, m, n, k, transA, transB, accumulate);
  return worstRatio(got, want, errorScale(a, b, c0, m, n, k, transA, transB, accumulate), f32Tol(k));
}

describe('matmulWasm module', () => {
  it('compiles and instantiates here (so the tests below exercise WebAssembly, not the fallback)', () => {
    expect(wasmMatmulAvailable()).toBe(true);
  });

  it('decodes the embedded base64 to a valid module', () => {
    const bytes = decodeBase64(MATMUL_WASM_BASE64);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it('decodeBase64 handles padding', () => {
    const text = (s: string): string => Array.from(decodeBase64(s), (x) => String.fromCharCode(x)).join('');
    expect(text('')).toBe('');
    expect(text('YQ==')).toBe('a');
    expect(text('YWI=')).toBe('ab');
    expect(text('YWJj')).toBe('abc');
    expect(text('YWJjZA==')).toBe('abcd');
  });
});

describe('matmulWasm (float32) against matmulReference', () => {
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
    const m = 33, n = 7, k = 600;
    const rand = makeRandom(7);
    const a = rand32(m * k, rand);
    const b = rand32(k * n, rand);
    const c0 = new Float32Array(m * n);
    const want = new Float32Array(m * n);
    matmulReference(a, b, want, m, n, k, false, false, false);
    const got = new Float32Array(m * n);
    matmulWasm(a, b, got, m, n, k, false, false, false);
    const scale = errorScale(a, b, c0, m, n, k, false, false, false);
    expect(worstRatio(got, want, scale, f32Tol(k))).toBeLessThanOrEqual(1);
    got[5] -= a[0 * k + 17] * b[17 * n + 5]; // drop the p = 17 term of C[0, 5]
    expect(worstRatio(got, want, scale, f32Tol(k))).toBeGreaterThan(1);
  });

  it('writes only the m×n result, leaves A and B untouched, and works on subarray views', () => {
    const rand = makeRandom(11);
    for (const [m, n, k] of [[13, 11, 300], [70, 9, 260], [5, 3, 2]] as const) {
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          const aBuf = rand32(m * k + 7, rand);
          const bBuf = rand32(k * n + 9, rand);
          const cBuf = new Float32Array(m * n + 7).fill(42);
          const a = aBuf.subarray(3, 3 + m * k + 2); // longer than m·k: trailing data must be ignored
          const b = bBuf.subarray(5);
          const c = cBuf.subarray(2, 2 + m * n + 3); // longer than m·n: the tail is not C
          const aCopy = aBuf.slice();
          const bCopy = bBuf.slice();
          const want = new Float32Array(m * n).fill(42);
          matmulReference(a, b, want, m, n, k, transA, transB, accumulate);
          matmulWasm(a, b, c, m, n, k, transA, transB, accumulate);
          const c0 = new Float32Array(m * n).fill(42);
          const scale = errorScale(a, b, c0, m, n, k, transA, transB, accumulate);
          expect(worstRatio(c.subarray(0, m * n), want, scale, f32Tol(k))).toBeLessThanOrEqual(1);
          expect(Array.from(cBuf.subarray(0, 2))).toEqual([42, 42]);
          expect(Array.from(cBuf.subarray(2 + m * n))).toEqual([42, 42, 42, 42, 42]);
          expect(aBuf).toEqual(aCopy);
          expect(bBuf).toEqual(bCopy);
        }
      }
    }
  });

  it('does not leak data from a larger previous call into a smaller one', () => {
    expect(check32(200, 600, 700, true, true, false, 1)).toBeLessThanOrEqual(1);
    for (const [m, n, k] of [[5, 5, 3], [6, 4, 2], [3, 3, 1], [9, 17, 260]] as const) {
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          expect(check32(m, n, k, transA, transB, accumulate, m + n + k)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('k = 0 gives C = 0, or leaves C alone when accumulating; m = 0 or n = 0 writes nothing', () => {
    const c = Float32Array.from([1, 2, 3, 4, 5, 6, 9]);
    matmulWasm(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, false, true);
    expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6, 9]);
    matmulWasm(new Float32Array(0), new Float32Array(0), c, 2, 3, 0, false, true, false);
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0, 9]);
    const d = Float32Array.from([7]);
    matmulWasm(new Float32Array(5), new Float32Array(0), d, 0, 1, 5, false, false, false);
    matmulWasm(new Float32Array(0), new Float32Array(5), d, 1, 0, 5, true, true, false);
    expect(d[0]).toBe(7);
  });

  it('propagates Inf and NaN into exactly the entries the reference does (padding stays out)', () => {
    for (const [m, n, k] of [[6, 5, 9], [1, 7, 4], [7, 1, 4], [66, 517, 3]] as const) {
      for (const [transA, transB] of FLAGS) {
        const rand = makeRandom(m * n * k);
        const a = rand32(m * k, rand);
        const b = rand32(k * n, rand);
        a[a.length - 1] = Infinity; // last row of op(A) (or last column when transA)
        b[0] = NaN;
        const want = new Float32Array(m * n);
        const got = new Float32Array(m * n);
        matmulReference(a, b, want, m, n, k, transA, transB, false);
        matmulWasm(a, b, got, m, n, k, transA, transB, false);
        const pattern = (x: Float32Array): string => Array.from(x, (v) => (Number.isNaN(v) ? 'n' : Number.isFinite(v) ? '.' : 'i')).join('');
        expect(pattern(got)).toBe(pattern(want));
      }
    }
  });

  it('falls back for float64 (gradient checks) with double accuracy', () => {
    const m = 9, n = 11, k = 300;
    const rand = makeRandom(5);
    for (const [transA, transB] of FLAGS) {
      const a = randomArray((len) => new Float64Array(len), m * k, rand);
      const b = randomArray((len) => new Float64Array(len), k * n, rand);
      const want = new Float64Array(m * n);
      const got = new Float64Array(m * n);
      matmulReference(a, b, want, m, n, k, transA, transB, false);
      matmulWasm(a, b, got, m, n, k, transA, transB, false);
      const scale = errorScale(a, b, want, m, n, k, transA, transB, false);
      expect(worstRatio(got, want, scale, 1e-13 * (1 + Math.sqrt(k)))).toBeLessThanOrEqual(1);
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

describe('matmulWasm: C[i, j] does not depend on M or N (bitwise)', () => {
  // Like matmulBlocked, a batch split into shards of any size (including 1-row shards and
  // edge tiles) must give the same rows, bit for bit, as the whole batch; so there is no
  // size-dependent fallback for float32.
  const pieces = [1, 2, 3, 5, 64, 4, 7, 9];
  for (const [m, n, k] of [[90, 29, 600], [11, 75, 300], [70, 530, 257]] as const) {
    it(`${m}×${k} · ${k}×${n} split into row blocks and column blocks`, () => {
      const rand = makeRandom(m * n + k);
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          const a = rand32(m * k, rand);
          const b = rand32(k * n, rand);
          const c0 = rand32(m * n, rand);
          const full = c0.slice();
          matmulWasm(a, b, full, m, n, k, transA, transB, accumulate);
          for (let i0 = 0, s = 0; i0 < m; s++) {
            const i1 = Math.min(m, i0 + pieces[s % pieces.length]);
            const part = c0.slice(i0 * n, i1 * n);
            matmulWasm(rowsOfOpA(a, m, k, transA, i0, i1), b, part, i1 - i0, n, k, transA, transB, accumulate);
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
            matmulWasm(a, colsOfOpB(b, n, k, transB, j0, j1), part, m, w, k, transA, transB, accumulate);
            expect(part, `cols ${j0}..${j1} transA=${transA} transB=${transB}`).toEqual(want);
            j0 = j1;
          }
        }
      }
    });
  }
});
