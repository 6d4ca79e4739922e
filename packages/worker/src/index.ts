export { runWorker, RefusedError, type WorkerOptions } from './client.js';
export { RunSession } from './session.js';
export { StepRunner, type BatchNormExchange, type StepAssignment, type StepOutcome } from './step-runner.js';
export { createSharedState, type SharedState } from './shared-state.js';
export { ThreadBarrier, BarrierHost } from './bn-barrier.js';
export { clientSocketOptions } from './socket-options.js';
