export { averageProbabilities, probabilityMetrics, type ProbabilityMetrics } from './metrics.js';
export { predictProbabilities } from './predict.js';
export { averageParameters } from './average.js';
export { sampleWords, type SampleOptions } from './sample.js';
