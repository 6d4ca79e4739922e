import { CHAR_CONTEXT, loadNames, loadWords } from './char-datasets.js';
import { loadCsvDataset, splitDataset } from './csv.js';
import { loadMnist } from './mnist.js';
import type { Splits } from './splits.js';
import { charLmSplits, loadTextLines } from './text-lines.js';

/** Data sets by the name a run config uses, so workers and coordinator load the same data. */
const LOADERS: Record<string, () => Splits> = {
  mnist: loadMnist,
  names: loadNames,
  words: loadWords,
};

export const DATASET_NAMES = Object.keys(LOADERS);

/** Seed of the 80/10/10 split of a user's own file, fixed so every process splits alike. */
const USER_SPLIT_SEED = 42;

/**
 * Your own data, by a name of the form
 * - `csv:PATH#LABEL` — numeric feature columns and the label column LABEL (a header name or a
 *   0-based index; negative counts from the end), split 80/10/10 by a fixed seed;
 * - `lines:PATH` — one word per line for a character model (context 8, '.' plus the
 *   characters seen), split 80/10/10 by word.
 */
function loadUserData(name: string): Splits | null {
  const csv = /^csv:(.+)#(.+)$/.exec(name);
  if (csv) {
    const [, path, column] = csv as unknown as [string, string, string];
    const labelColumn = /^-?\d+$/.test(column) ? Number(column) : column;
    const { dataset } = loadCsvDataset(path, { labelColumn });
    return splitDataset(dataset, undefined, USER_SPLIT_SEED);
  }
  const lines = /^lines:(.+)$/.exec(name);
  if (lines) {
    const { train, val, test, vocab } = charLmSplits(loadTextLines(lines[1]), { context: CHAR_CONTEXT, seed: USER_SPLIT_SEED });
    return { train, val, test, vocab };
  }
  return null;
}

/** Whether `name` names a data set (a registered one, or a `csv:` / `lines:` file). */
export function isDatasetName(name: string): boolean {
  return Object.hasOwn(LOADERS, name) || /^csv:.+#.+$/.test(name) || /^lines:.+$/.test(name);
}

export function loadDataset(name: string): Splits {
  const load = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (load) return load();
  const user = loadUserData(name);
  if (user) return user;
  throw new Error(`Unknown data set "${name}" (expected one of ${DATASET_NAMES.join(', ')}, csv:PATH#LABEL_COLUMN or lines:PATH)`);
}
