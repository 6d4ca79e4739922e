import type { Splits } from './splits.js';
import { loadNames, loadWords } from './char-datasets.js';
import { loadMnist } from './mnist.js';

/** Data sets by the name a run config uses, so workers and coordinator load the same data. */
const LOADERS: Record<string, () => Splits> = {
  mnist: loadMnist,
  names: loadNames,
  words: loadWords,
};

export const DATASET_NAMES = Object.keys(LOADERS);

export function loadDataset(name: string): Splits {
  const load = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (!load) throw new Error(`Unknown data set "${name}" (expected one of ${DATASET_NAMES.join(', ')})`);
  return load();
}
