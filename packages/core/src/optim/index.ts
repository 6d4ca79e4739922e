export type { Hyper, HyperValue, Optimizer, OptimizerState } from './optimizer.js';
export { BaseOptimizer } from './optimizer.js';
export { SGD, sgdUpdate, momentumUpdate, type SGDHyper } from './sgd.js';
export { nesterovUpdate } from './nesterov.js';
export { Adagrad, adagradUpdate, type AdagradHyper } from './adagrad.js';
export { RMSprop, rmspropUpdate, type RMSpropHyper } from './rmsprop.js';
export {
  Adadelta,
  adadeltaSeedUpdate,
  adadeltaZeilerUpdate,
  type AdadeltaForm,
  type AdadeltaHyper,
} from './adadelta.js';
export { Adam, AdamBase, adamUpdate, type AdamHyper } from './adam.js';
export { AdamW } from './adamw.js';
export { createOptimizer, optimizerFromState, OPTIMIZER_NAMES } from './create-optimizer.js';
export { lbfgs, type LbfgsOptions, type LbfgsResult, type Objective } from './lbfgs.js';
export { clipGradNorm, gradNorm } from './clip.js';
export {
  constantSchedule,
  cosineCycleEnds,
  cosineSchedule,
  exponentialDecay,
  inverseTimeDecay,
  stepDecay,
  type CosineOptions,
  type Schedule,
} from './schedules.js';
export { createSchedule, SCHEDULE_KINDS, type ScheduleConfig } from './create-schedule.js';
export { EarlyStopping, type EarlyStoppingCounters, type EarlyStoppingOptions } from './early-stopping.js';
export { ExponentialMovingAverage } from './ema.js';
