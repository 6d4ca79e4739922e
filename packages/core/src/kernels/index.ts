import { matmulBlocked } from './matmul-blocked.js';
import type { Kernels } from './types.js';

export type { Kernels } from './types.js';
export { matmulReference } from './matmul-reference.js';
export { matmulBlocked } from './matmul-blocked.js';

/** The active kernels. Ops call through this object; `useKernels` swaps implementations. */
export const kernels: Kernels = {
  matmul: matmulBlocked,
};

/** Replaces some or all kernels, e.g. with a WebAssembly build; returns the previous set. */
export function useKernels(replacement: Partial<Kernels>): Kernels {
  const previous = { ...kernels };
  Object.assign(kernels, replacement);
  return previous;
}
