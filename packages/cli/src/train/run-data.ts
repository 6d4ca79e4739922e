import { takeFirst, type Dataset } from '@flotilla/core';
import type { RunConfig } from '@flotilla/coordinator';
import type { Splits } from '@flotilla/datasets';

/** The data a run trains and evaluates on: the configured limits applied to a data set's splits. */
export function runData(splits: Splits, config: RunConfig): { train: Dataset; test: Dataset; val?: Dataset; vocab?: string } {
  return {
    train: takeFirst(splits.train, config.trainLimit),
    test: takeFirst(splits.test, config.testLimit),
    ...(splits.val ? { val: takeFirst(splits.val, config.testLimit) } : {}),
    ...(splits.vocab ? { vocab: splits.vocab } : {}),
  };
}
