/**
 * The optional native matmul kernel: OpenBLAS's cblas_sgemm behind core's kernel seam, as
 * PyTorch and numpy multiply on this machine. `registerOpenBlas()` makes `openblas` a name
 * FLOTILLA_MATMUL can choose (the CLI and the worker threads call it); where the addon was
 * not built or no OpenBLAS library is installed, choosing it fails with the reason.
 */
import { createRequire } from 'node:module';
import { matmulWasm, registerMatmulKernel, type Kernels } from '@flotilla/core';

interface NativeBlas {
  /** null when cblas_sgemm is loaded, else why not. */
  unavailable(): string | null;
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): void;
}

function loadAddon(): NativeBlas | string {
  try {
    return createRequire(import.meta.url)('../build/Release/flotilla_blas.node') as NativeBlas;
  } catch (error) {
    const first = String((error as Error).message).split('\n')[0];
    return `the native addon is not built (${first}); packages/blas builds it with node-gyp, which needs python3, make and a C compiler`;
  }
}

const addon = loadAddon();
/** Why not, once asked: asking loads OpenBLAS, which only a process that uses it should do. */
let reason: string | null | undefined;

/** Why the OpenBLAS kernel cannot run here, or null when it can. Loads the library (once) to find out. */
export function openBlasUnavailable(): string | null {
  if (reason === undefined) reason = typeof addon === 'string' ? addon : addon.unavailable();
  return reason;
}

/**
 * Kernels['matmul'] through cblas_sgemm, one OpenBLAS thread per call, for float32 arrays;
 * anything else (the gradient checks' float64), or everything where OpenBLAS cannot load,
 * goes to the WebAssembly kernel, which runs the blocked TypeScript one for float64. Results
 * differ from the WebAssembly kernel's in the last bits (another summation order), as
 * between any two BLAS builds.
 */
export const matmulOpenBlas: Kernels['matmul'] = (a, b, c, m, n, k, transA, transB, accumulate) => {
  if (typeof addon !== 'string' && openBlasUnavailable() === null && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    addon.sgemm(a, b, c, m, n, k, transA, transB, accumulate);
  } else {
    matmulWasm(a, b, c, m, n, k, transA, transB, accumulate);
  }
};

/**
 * Registers `openblas` with core's kernel seam. OpenBLAS is loaded only when a process
 * chooses it (FLOTILLA_MATMUL=openblas); choosing it where it cannot load fails with the reason.
 */
export function registerOpenBlas(): void {
  registerMatmulKernel('openblas', () => {
    const why = openBlasUnavailable();
    return why === null ? matmulOpenBlas : { unavailable: why };
  });
}
