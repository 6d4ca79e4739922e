import { describe, expect, it } from 'vitest';
import { makeRandom } from '../../test/helpers.js';
import {
  check32, check64, droppedTermRatios, errorScale, expectAllFlagsClose32, expectNonFiniteLikeReference, expectSplitsBitIdentical, f32Tol, FLAGS, rand32,
  worstRatio,
} from '../../test/matmul-support.js';
import { matmulReference } from './matmul-reference.js';
import { MATMUL_FMA_WASM_BASE64 } from './matmul-fma-wasm-bytes.js';
import { matmulWasm, matmulWasmBuild, matmulWasmSimd, wasmMatmulAvailable } from './matmul-wasm.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';
import type { Kernels } from './types.js';
import { decodeBase64 } from './wasm-module.js';

/*
 * f32Tol (test/matmul-support.ts) is 8·(1 + √K)·u·S with S = Σ|a||b| (+|C0|). The plain build
 * rounds each product to float32 (≤ u relative) and sums runs of KU = 16 products in float32
 * (≤ 15 roundings each); the fused build rounds once per fused multiply-add over runs of
 * KU = 32 (≤ 32 roundings each). Both add the runs in float64 (negligible), round each K block
 * (256) sum to float32 once and add it into C in float32 (one rounding per block, one more for
 * C0 when accumulating). The worst case is therefore ≈ (min(K, 32) + ⌈K/256⌉ + 1)·u·S ≤ 38·u·S
 * for every K here (≤ 1100), below f32Tol = 8·(1 + √K)·u·S for every K ≥ 1 (K + 2 ≤ 8 + 8√K up
 * to 32, and 38 ≤ 8 + 8√32 beyond; the tolerance also used for matmulBlocked). It is still far below one
 * product |a_ip·b_pj| ≈ S/K for every K tested (K = 1100: 8·(1+33)/2^24 ≈ 1.6e-5 vs 1/K ≈ 9e-4),
 * so a dropped, doubled or misplaced term fails — a test below checks exactly that.
 */

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

describe('matmulWasm module', () => {
  it('compiles and instantiates here, the fused build wherever the runtime has relaxed SIMD (so the tests below exercise both builds)', () => {
    expect(wasmMatmulAvailable()).toBe(true);
    const build = matmulWasmBuild(); // turns on V8's flag first where Node has it behind one
    const relaxed = WebAssembly.validate(decodeBase64(MATMUL_FMA_WASM_BASE64));
    expect(build).toBe(relaxed ? 'fma' : 'simd');
    // Node ≥ 20.16 can always turn it on (process.getBuiltinModule reaches node:v8).
    if (typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function') expect(build).toBe('fma');
  });

  it('decodes the embedded base64 of both builds to valid modules', () => {
    for (const base64 of [MATMUL_WASM_BASE64, MATMUL_FMA_WASM_BASE64]) {
      const bytes = decodeBase64(base64);
      expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
      // The fused module must validate wherever the flag can be turned on (Node ≥ 20.16); only on
      // older runtimes does it follow what compiled.
      const canFuse = typeof (process as { getBuiltinModule?: unknown }).getBuiltinModule === 'function' || matmulWasmBuild() === 'fma';
      expect(WebAssembly.validate(bytes)).toBe(base64 === MATMUL_WASM_BASE64 || canFuse);
    }
  });

  it('the fused build really fuses: the rounding error of a product survives, as only a fused multiply-add keeps it', () => {
    // C = 1·(−(1 + 2^-11)) + (1 + 2^-12)² = 2^-24 exactly. Multiply-then-add rounds
    // (1 + 2^-12)² = 1 + 2^-11 + 2^-24 to 1 + 2^-11 (a tie, to even) and gets 0; a fused
    // multiply-add adds the exact product to −(1 + 2^-11) and gets 2^-24. (Assumes a CPU with
    // FMA, as x86-64 has had since 2013 and every ARM64; without it V8 multiplies and adds.)
    const a = Float32Array.from([1, 1 + 2 ** -12]);
    const b = Float32Array.from([-(1 + 2 ** -11), 1 + 2 ** -12]);
    const fused = new Float32Array(1), plain = new Float32Array(1);
    matmulWasm(a, b, fused, 1, 1, 2, false, false, false);
    matmulWasmSimd(a, b, plain, 1, 1, 2, false, false, false);
    expect(fused[0]).toBe(matmulWasmBuild() === 'fma' ? 2 ** -24 : 0);
    expect(plain[0]).toBe(0);
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

/** Both builds: the fused one runs here by default, the plain one where relaxed SIMD does not. */
const BUILDS: Array<[string, Kernels['matmul']]> = [['fused', matmulWasm], ['plain', matmulWasmSimd]];

describe.each(BUILDS)('matmulWasm, %s build (float32), against matmulReference', (_name, matmulWasm) => {
  for (const [m, n, k] of SHAPES) {
    it(`${m}×${k} · ${k}×${n}, all transpose flags, overwrite and accumulate`, () => {
      expectAllFlagsClose32(matmulWasm, m, n, k);
    });
  }

  it('detects a single wrong product: the tolerance is far below one term', () => {
    const { intact, dropped } = droppedTermRatios(matmulWasm);
    expect(intact).toBeLessThanOrEqual(1);
    expect(dropped).toBeGreaterThan(1);
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
    expect(check32(matmulWasm, 200, 600, 700, true, true, false, 1)).toBeLessThanOrEqual(1);
    for (const [m, n, k] of [[5, 5, 3], [6, 4, 2], [3, 3, 1], [9, 17, 260]] as const) {
      for (const [transA, transB] of FLAGS) {
        for (const accumulate of [false, true]) {
          expect(check32(matmulWasm, m, n, k, transA, transB, accumulate, m + n + k)).toBeLessThanOrEqual(1);
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
      expectNonFiniteLikeReference(matmulWasm, m, n, k);
    }
  });

  it('falls back for float64 (gradient checks) with double accuracy', () => {
    const m = 9, n = 11, k = 300;
    const rand = makeRandom(5);
    for (const [transA, transB] of FLAGS) {
      expect(check64(matmulWasm, m, n, k, transA, transB, false, rand)).toBeLessThanOrEqual(1);
    }
  });
});

describe.each(BUILDS)('matmulWasm, %s build: C[i, j] does not depend on M or N (bitwise)', (_name, matmulWasm) => {
  // Like matmulBlocked, a batch split into shards of any size (including 1-row shards and
  // edge tiles) must give the same rows, bit for bit, as the whole batch; so there is no
  // size-dependent fallback for float32.
  const pieces = [1, 2, 3, 5, 64, 4, 7, 9];
  for (const [m, n, k] of [[90, 29, 600], [11, 75, 300], [70, 530, 257]] as const) {
    it(`${m}×${k} · ${k}×${n} split into row blocks and column blocks`, () => {
      expectSplitsBitIdentical(matmulWasm, m, n, k, pieces);
    });
  }
});
