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

/** What a registered kernel's loader gives: the kernel, or why it cannot run here. */
export type MatmulKernelLoad = Kernels['matmul'] | { unavailable: string };

/** Matmul kernels by the name FLOTILLA_MATMUL gives: each loader, and what it gave once run. */
const MATMUL_KERNELS = new Map<string, { load: () => MatmulKernelLoad; loaded?: MatmulKernelLoad }>(
  ([['wasm', matmulWasm], ['wasm-simd', matmulWasmSimd], ['blocked', matmulBlocked], ['reference', matmulReference]] as const)
    .map(([name, kernel]) => [name, { load: () => kernel, loaded: kernel }]),
);

/**
 * Adds a matmul kernel under `name` (e.g. @flotilla/blas's `openblas`): `load` runs the
 * first time the name is chosen, so a native library is not loaded (nor its threads
 * started) in processes that never use it, and gives the kernel or the reason
 * useMatmulKernel then refuses the name with. For kernels outside core: core has no Node
 * imports, so a native one lives in its own package.
 */
export function registerMatmulKernel(name: string, load: () => MatmulKernelLoad): void {
  MATMUL_KERNELS.set(name, { load });
}

/** The kernel registered or built in under `name`, loading it first if need be; undefined if there is none. */
function matmulKernelNamed(name: string): Kernels['matmul'] | undefined {
  const entry = MATMUL_KERNELS.get(name);
  if (!entry) return undefined;
  entry.loaded ??= entry.load();
  if (typeof entry.loaded !== 'function') throw new Error(`matmul kernel "${name}" is unavailable here: ${entry.loaded.unavailable}`);
  return entry.loaded;
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
  for (const [name, { loaded }] of MATMUL_KERNELS) if (loaded === active) return name;
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
  const kernel = matmulKernelNamed(chosen);
  if (!kernel) throw new Error(`Unknown matmul kernel "${name}" (expected ${[...MATMUL_KERNELS.keys()].join(', ')})`);
  useKernels({ matmul: kernel });
  return chosen;
}
