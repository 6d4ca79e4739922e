export { Coordinator, type CoordinatorEvent, type CoordinatorOptions, type RunSummary } from './coordinator.js';
export { TrainingState, type AppliedStep, type BatchAssignment } from './training-state.js';
export {
  createRunOptimizer, OPTIMIZER_CHOICES, readConfigFile, resolveRunConfig, scheduleConfig, TRAIN_DEFAULTS, workerConfigOf,
  type RunConfig,
} from './run-config.js';
export { RunDir } from './run-dir.js';
export { writeFileAtomic } from './files.js';
export { newToken, tokensMatch } from './token.js';
export { BatchNormReduction } from './bn-reduction.js';
export { GradientSum } from './gradient-sum.js';
export { checkpointsByStep, latestGoodCheckpoint, type CheckpointCandidate } from './latest-checkpoint.js';
