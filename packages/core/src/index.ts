/**
 * @flotilla/core: tensors on Float32Array, reverse-mode autodiff, layers, losses,
 * optimizers, schedules, safetensors checkpoints and data sets. Imports nothing from Node.
 */
export * from './dtype.js';
export * from './rng.js';
export { Tensor, noGrad, isGradEnabled, record, needsGrad, type BackwardHooks, type GradNode } from './autodiff/tensor.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autodiff/gradcheck.js';
export {
  kernels, useKernels, useMatmulKernel, registerMatmulKernel, matmulKernelLabel, type MatmulKernelLoad, matmulReference, matmulWasm, matmulWasmBuild, type Kernels,
  type MatmulWasmBuild, encodeHalfWasm, decodeHalfWasm, maxAbsBitsWasm, halfLaneValuesEncoded, tanh64,
} from './kernels/index.js';
export * from './ops/index.js';
export * from './nn/index.js';
export { buildModel, Model, type BuildOptions, type ModelStorage } from './model/model.js';
export { decodeModelCheckpoint, encodeModelCheckpoint, modelTensors, readEmaParameters } from './model/checkpoint.js';
export { buildSequential, LAYER_BUILDERS, SpecError, type LayerBuilder } from './model/registry.js';
export { DEFAULT_MNIST_SPEC, validateModelSpec, type LayerSpec, type ModelSpec } from './model/spec.js';
export * from './optim/index.js';
export * from './io/index.js';
export * from './data/index.js';
export { computeGradients, evaluate, type Evaluation, type GradientStepOptions } from './train/step.js';
export { GradientReadiness } from './train/gradient-readiness.js';
export { LocalTrainer, type GradientRequest, type GradientSource, type LocalTrainerOptions, type StepReport } from './train/local-trainer.js';
export { recomputeBatchNormStatistics } from './train/recompute-bn.js';
export { ModelEarlyStopping } from './train/model-early-stopping.js';
export * from './eval/index.js';
