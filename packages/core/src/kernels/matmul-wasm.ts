import type { FloatArray } from '../dtype.js';
import { matmulBlocked } from './matmul-blocked.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';
import { ensureMemory, instantiateEmbedded, type WasmMemory } from './wasm-module.js';

/*
 * WebAssembly SIMD matmul: a thin wrapper around the module compiled from
 * assembly/matmul.ts (AssemblyScript, f32x4) and embedded as base64 in matmul-wasm-bytes.ts.
 *
 * Per call the wrapper copies A and B (and C when accumulating) into the module's linear
 * memory, runs the packed 4×8 f32x4 kernel there, and copies C back out. Linear memory is
 * grown on demand and kept, so a warm call of the same or a smaller size allocates nothing.
 * The module is compiled synchronously on first use (see instantiateEmbedded).
 *
 * Products are summed in float32 over runs of 16 steps of K and those partial sums in
 * float64 within a K block of 256; each block sum is rounded to float32 and added into C.
 * The run length trades speed for rounding (measured at n = 512 on a 2-core Xeon, error
 * as max |c − ref| / (‖a row‖·‖b col‖) on the default model's shapes, U(0,1) inputs):
 *   runs of 4: 19.8 GFLOP/s, 1.2e-7   runs of 16: 30.4, 1.3e-7   pure float32: 37.2, 6.4e-7
 * Per shape, runs of 16 have at most 1.8× the error of runs of 4 (on Xᵀ·dY; 1.1× on the
 * worst shape overall); pure float32, as BLAS sums, 3.5–10×. Long training runs do not separate them: 400
 * steps of the netns test's run drift 4e-4 to 3e-2 from matmulBlocked's by seed, whatever
 * the variant, as chaotic runs do. See the tolerance argument in matmul-wasm.test.ts.
 *
 * Falls back to matmulBlocked for anything not float32 throughout (gradient checks run in
 * float64) and when WebAssembly SIMD is unavailable. There is deliberately no fallback for
 * small float32 products: every C[i, j] is then summed in the same order whatever M and N
 * are (bitwise), so a batch split into shards of any size reproduces the whole batch's rows,
 * as with matmulBlocked. (Tiny products cost ~1 µs of call and copy overhead.)
 * C must not alias A or B.
 */

interface WasmExports {
  readonly memory: WasmMemory;
  readonly WORK_BYTES: { readonly value: number };
  matmul(
    a: number, b: number, c: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, accumulate: boolean, work: number,
  ): void;
}
let wasm: WasmExports | null | undefined; // undefined: not tried yet; null: unavailable
let heap = new Float32Array(0);

function instance(): WasmExports | null {
  if (wasm === undefined) wasm = instantiateEmbedded<WasmExports>(MATMUL_WASM_BASE64);
  return wasm;
}

/** True when the WebAssembly SIMD module compiled and instantiated here. */
export function wasmMatmulAvailable(): boolean {
  return instance() !== null;
}

const align16 = (x: number): number => (x + 15) & ~15;

/** Kernels.matmul on WebAssembly SIMD; see the file comment for when it falls back. */
export function matmulWasm(
  a: FloatArray, b: FloatArray, c: FloatArray,
  m: number, n: number, k: number,
  transA: boolean, transB: boolean, accumulate: boolean,
): void {
  if (!(a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array)) {
    matmulBlocked(a, b, c, m, n, k, transA, transB, accumulate);
    return;
  }
  const w = instance();
  if (w === null) {
    matmulBlocked(a, b, c, m, n, k, transA, transB, accumulate);
    return;
  }
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  // Layout (bytes): [work | A | B | C], each 16-byte aligned.
  const offA = align16(w.WORK_BYTES.value);
  const offB = align16(offA + sizeA * 4);
  const offC = align16(offB + sizeB * 4);
  const end = offC + sizeC * 4;
  const memory = w.memory;
  ensureMemory(memory, end);
  if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
  heap.set(sizeA === a.length ? a : a.subarray(0, sizeA), offA >> 2);
  heap.set(sizeB === b.length ? b : b.subarray(0, sizeB), offB >> 2);
  if (accumulate) heap.set(sizeC === c.length ? c : c.subarray(0, sizeC), offC >> 2);
  w.matmul(offA, offB, offC, m, n, k, transA, transB, accumulate, 0);
  c.set(heap.subarray(offC >> 2, (offC >> 2) + sizeC));
}
