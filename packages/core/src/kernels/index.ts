import { matmulBlocked } from './matmul-blocked.js';
import { matmulReference } from './matmul-reference.js';
import { matmulWasm, matmulWasmBuild, matmulWasmSimd } from './matmul-wasm.js';
import type { Kernels } from './types.js';
import {
  adamWasm, batchNormBackwardDxWasm, batchNormBackwardSumsWasm, batchNormNormalizeWasm, channelMomentsWasm, keepMaskWasm,
  mulAccumulateWasm, mulWasm, reluBackwardWasm, reluWasm, sumSquaresWasm, accumulateWasm, addNWasm, axpbyWasm, tanhWasm, tanhBackwardWasm, firstNonFiniteWasm,
} from './elementwise-wasm.js';
import {
  adamReference, batchNormBackwardDxReference, batchNormBackwardSumsReference, batchNormNormalizeReference, channelMomentsReference,
  keepMaskReference, mulAccumulateReference, mulReference, reluBackwardReference, reluReference, sumSquaresReference,
  accumulateReference, addNReference, axpbyReference, tanhReference, tanhBackwardReference, firstNonFiniteReference,
} from './elementwise-reference.js';

export type { Kernels } from './types.js';
export { matmulReference } from './matmul-reference.js';
export { tanh64 } from './elementwise-reference.js';
export { matmulBlocked } from './matmul-blocked.js';
export { matmulWasm, matmulWasmBuild, matmulWasmSimd, wasmMatmulAvailable, type MatmulWasmBuild } from './matmul-wasm.js';
export { wasmElementwiseAvailable, encodeHalfWasm, decodeHalfWasm, maxAbsBitsWasm, halfLaneValuesEncoded } from './elementwise-wasm.js';

/** The TypeScript elementwise kernels (the definition; float64 always runs these). */
export const ELEMENTWISE_REFERENCE = {
  sumSquares: sumSquaresReference,
  accumulate: accumulateReference,
  addN: addNReference,
  firstNonFinite: firstNonFiniteReference,
  axpby: axpbyReference,
  tanh: tanhReference,
  tanhBackward: tanhBackwardReference,
  relu: reluReference,
  reluBackward: reluBackwardReference,
  mul: mulReference,
  mulAccumulate: mulAccumulateReference,
  channelMoments: channelMomentsReference,
  batchNormNormalize: batchNormNormalizeReference,
  batchNormBackwardSums: batchNormBackwardSumsReference,
  batchNormBackwardDx: batchNormBackwardDxReference,
  keepMask: keepMaskReference,
  adam: adamReference,
} satisfies Omit<Kernels, 'matmul'>;

/** The WebAssembly SIMD elementwise kernels, bit-identical to the references (the default). */
export const ELEMENTWISE_WASM = {
  sumSquares: sumSquaresWasm,
  accumulate: accumulateWasm,
  addN: addNWasm,
  firstNonFinite: firstNonFiniteWasm,
  axpby: axpbyWasm,
  tanh: tanhWasm,
  tanhBackward: tanhBackwardWasm,
  relu: reluWasm,
  reluBackward: reluBackwardWasm,
  mul: mulWasm,
  mulAccumulate: mulAccumulateWasm,
  channelMoments: channelMomentsWasm,
  batchNormNormalize: batchNormNormalizeWasm,
  batchNormBackwardSums: batchNormBackwardSumsWasm,
  batchNormBackwardDx: batchNormBackwardDxWasm,
  keepMask: keepMaskWasm,
  adam: adamWasm,
} satisfies Omit<Kernels, 'matmul'>;

/**
 * The active kernels. Ops call through this object; `useKernels` swaps implementations.
 * matmul defaults to the WebAssembly SIMD kernel (fused multiply-add where available), which itself falls back to matmulBlocked
 * for float64 (gradient checks) and where WebAssembly SIMD is unavailable; the elementwise
 * kernels likewise to their TypeScript references (`useKernels(ELEMENTWISE_REFERENCE)`
 * selects those outright).
 */
export const kernels: Kernels = {
  matmul: matmulWasm,
  ...ELEMENTWISE_WASM,
};

/** Replaces some or all kernels, e.g. with a WebAssembly build; returns the previous set. */
export function useKernels(replacement: Partial<Kernels>): Kernels {
  const previous = { ...kernels };
  Object.assign(kernels, replacement);
  return previous;
}

/** Matmul kernels by the name FLOTILLA_MATMUL gives: the built-in ones and any registered. */
const MATMUL_KERNELS = new Map<string, Kernels['matmul']>([
  ['wasm', matmulWasm], ['wasm-simd', matmulWasmSimd], ['blocked', matmulBlocked], ['reference', matmulReference],
]);
/** Registered names whose kernel cannot run here, with the reason. */
const UNAVAILABLE_MATMUL = new Map<string, string>();

/**
 * Adds a matmul kernel under `name` (e.g. @flotilla/blas's `openblas`), or, given
 * `{ unavailable }`, a name that useMatmulKernel refuses with that reason. For kernels
 * outside core: core has no Node imports, so a native one lives in its own package.
 */
export function registerMatmulKernel(name: string, kernel: Kernels['matmul'] | { unavailable: string }): void {
  if (typeof kernel === 'function') {
    MATMUL_KERNELS.set(name, kernel);
    UNAVAILABLE_MATMUL.delete(name);
  } else {
    MATMUL_KERNELS.delete(name);
    UNAVAILABLE_MATMUL.set(name, kernel.unavailable);
  }
}

/**
 * The active matmul kernel as one label: `wasm-fma`, `wasm-simd`, `blocked`, `reference`, a
 * registered kernel's name, or `custom` for one installed with useKernels. Results agree bit
 * for bit only between processes on the same label (and, for `wasm-fma` or a native BLAS,
 * the same kind of CPU).
 */
export function matmulKernelLabel(): string {
  const active = kernels.matmul;
  const build = matmulWasmBuild(); // the WebAssembly kernels run matmulBlocked without SIMD
  if (active === matmulWasm) return build ? `wasm-${build}` : 'blocked';
  if (active === matmulWasmSimd) return build ? 'wasm-simd' : 'blocked';
  if (active === matmulBlocked) return 'blocked';
  if (active === matmulReference) return 'reference';
  for (const [name, kernel] of MATMUL_KERNELS) if (kernel === active) return name;
  return 'custom';
}

/**
 * Selects the matmul kernel by name (`wasm`, the default: WebAssembly with fused
 * multiply-add where the runtime has relaxed SIMD; `wasm-simd`, its plain-SIMD build;
 * `blocked`, the TypeScript kernel; `reference`, the naive triple loop; or a registered one,
 * such as `openblas`). The CLI and worker threads call this with the FLOTILLA_MATMUL
 * environment variable, so one setting reaches every process and thread, e.g. to compare
 * scaling with a kernel that does not share SIMD units between cores.
 */
export function useMatmulKernel(name: string | undefined): string {
  const chosen = name ?? 'wasm';
  const why = UNAVAILABLE_MATMUL.get(chosen);
  if (why !== undefined) throw new Error(`matmul kernel "${chosen}" is unavailable here: ${why}`);
  const kernel = MATMUL_KERNELS.get(chosen);
  if (!kernel) throw new Error(`Unknown matmul kernel "${name}" (expected ${[...MATMUL_KERNELS.keys(), ...UNAVAILABLE_MATMUL.keys()].join(', ')})`);
  useKernels({ matmul: kernel });
  return chosen;
}
