import type { Dataset } from '@flotilla/core';

/** A data set's splits. `val` is for model selection and early stopping; `vocab` names the classes of a character model. */
export interface Splits {
  train: Dataset;
  val?: Dataset;
  test: Dataset;
  /** Characters by class index, for character-level language models ('.' is the word boundary). */
  vocab?: string;
}
