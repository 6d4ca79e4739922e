import { matmulBlocked } from './matmul-blocked.js';
import { MATMUL_FMA_WASM_BASE64 } from './matmul-fma-wasm-bytes.js';
import { MATMUL_WASM_BASE64 } from './matmul-wasm-bytes.js';
import type { Kernels } from './types.js';
import { allowRelaxedSimd, ensureMemory, lazyInstance, type WasmMemory } from './wasm-module.js';

/*
 * WebAssembly SIMD matmul: a thin wrapper around the module compiled from
 * assembly/matmul.ts (AssemblyScript, f32x4) and embedded as base64, in two builds:
 *   fma   relaxed SIMD: each step one fused multiply-add (matmul-fma-wasm-bytes.ts);
 *   simd  plain SIMD: a multiply then an add (matmul-wasm-bytes.ts).
 * matmulWasm runs the fused build where the runtime takes relaxed SIMD (Node ≥ 21 and
 * current browsers by default; Node 20 behind a V8 flag that allowRelaxedSimd sets), else
 * the plain one; matmulWasmSimd always runs the plain one (FLOTILLA_MATMUL=wasm-simd).
 *
 * Per call the wrapper copies A and B (and C when accumulating) into the module's linear
 * memory, runs the packed 4×8 f32x4 kernel there, and copies C back out. Linear memory is
 * grown on demand and kept, so a warm call of the same or a smaller size allocates nothing.
 * The module is compiled synchronously on first use (see lazyInstance).
 *
 * Products are summed in float32 over runs of KU steps of K (32 fused, 16 plain) and those
 * partial sums in float64 within a K block of 256; each block sum is rounded to float32 and
 * added into C. The run length trades speed for rounding. Measured at n = 512 on a 2-core
 * Xeon (operands in linear memory; error as max |c − ref| / (‖a row‖·‖b col‖), worst of the
 * default model's four shapes, U(0,1) inputs):
 *   plain, runs of 4: 19.8 GFLOP/s, 1.2e-7    plain, runs of 16: 31.3, 1.3e-7
 *   fused, runs of 16: 40.4, 1.2e-7           fused, runs of 32: 44.3, 1.4e-7
 *   plain, pure float32: 38.5, 8.0e-7         fused, pure float32: 49.6, 8.0e-7
 * Per shape, fused runs of 32 have 1.1–1.6× the error of plain runs of 16; pure float32, as
 * BLAS sums, 3.5–9×. Long training runs do not separate them: 400 steps of the netns test's
 * run drift 4e-4 to 3e-2 from matmulBlocked's by seed, whatever the variant, as chaotic runs
 * do. See the tolerance argument in matmul-wasm.test.ts. The fused build's last bits depend
 * on the CPU (V8 emits a multiply and an add where there is no FMA): processes of one run
 * on different kinds of machine agree up to rounding, not bit for bit.
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
export type MatmulWasmBuild = 'fma' | 'simd';

const fmaInstance = lazyInstance<WasmExports>(MATMUL_FMA_WASM_BASE64, allowRelaxedSimd);
const simdInstance = lazyInstance<WasmExports>(MATMUL_WASM_BASE64);

/** The build matmulWasm runs here: the fused one where relaxed SIMD compiles, else plain; null without WebAssembly SIMD. */
export function matmulWasmBuild(): MatmulWasmBuild | null {
  return fmaInstance() !== null ? 'fma' : simdInstance() !== null ? 'simd' : null;
}

/** True when a WebAssembly SIMD matmul compiled and instantiated here. */
export function wasmMatmulAvailable(): boolean {
  return matmulWasmBuild() !== null;
}

const align16 = (x: number): number => (x + 15) & ~15;

/** Kernels.matmul on one build's instance; see the file comment for when it falls back. */
function wasmMatmul(instance: () => WasmExports | null): Kernels['matmul'] {
  let heap = new Float32Array(0);
  return (a, b, c, m, n, k, transA, transB, accumulate) => {
    const w = a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array ? instance() : null;
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
  };
}

/** The plain-SIMD build (what runtimes without relaxed SIMD run). */
export const matmulWasmSimd = wasmMatmul(simdInstance);
const matmulWasmFma = wasmMatmul(fmaInstance);

/** Kernels.matmul in WebAssembly: the fused build where it compiles, else the plain one. */
export const matmulWasm: Kernels['matmul'] = (a, b, c, m, n, k, transA, transB, accumulate) =>
  (fmaInstance() !== null ? matmulWasmFma : matmulWasmSimd)(a, b, c, m, n, k, transA, transB, accumulate);
