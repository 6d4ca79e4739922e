import { matmulWasm } from './matmul-wasm.js';
import type { Kernels } from './types.js';

export type { Kernels } from './types.js';
export { matmulReference } from './matmul-reference.js';
export { matmulBlocked } from './matmul-blocked.js';
export { matmulWasm, wasmMatmulAvailable } from './matmul-wasm.js';

/**
 * The active kernels. Ops call through this object; `useKernels` swaps implementations.
 * matmul defaults to the WebAssembly SIMD kernel, which itself falls back to matmulBlocked
 * for float64 (gradient checks) and where WebAssembly SIMD is unavailable.
 */
export const kernels: Kernels = {
  matmul: matmulWasm,
};

/** Replaces some or all kernels, e.g. with a WebAssembly build; returns the previous set. */
export function useKernels(replacement: Partial<Kernels>): Kernels {
  const previous = { ...kernels };
  Object.assign(kernels, replacement);
  return previous;
}
