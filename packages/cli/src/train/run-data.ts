import { takeFirst, type Dataset, type Model } from '@flotilla/core';
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

/** Fails before any training when the model's input or output does not fit the data set. */
export function checkModelFitsData(model: Model, splits: Splits, dataset: string): void {
  const outputClasses = model.outputShape.reduce((a, b) => a * b, 1);
  const features = splits.train.inputShape.reduce((a, b) => a * b, 1);
  const expected = model.spec.input.reduce((a, b) => a * b, 1);
  if (features !== expected) {
    throw new Error(`The model takes inputs of shape [${model.spec.input.join(', ')}] but data set ${dataset} has samples of shape [${splits.train.inputShape.join(', ')}]`);
  }
  if (outputClasses !== splits.train.numClasses) {
    const vocab = splits.vocab ? ` (vocabulary '${splits.vocab}')` : '';
    throw new Error(`The model predicts ${outputClasses} classes but data set ${dataset} has ${splits.train.numClasses}${vocab}`);
  }
}
