export { loadMnist } from './mnist.js';
export type { Splits } from './splits.js';
export { mnistDataDir, readMnistFiles, type MnistFiles } from './mnist-files.js';
export { loadDataset, isDatasetName, DATASET_NAMES } from './registry.js';
export { loadNames, loadWords, charSplits, CHAR_CONTEXT, LETTERS } from './char-datasets.js';
export {
  DataFormatError, DEFAULT_SPLIT_FRACTIONS, loadCsvDataset, parseCsvDataset, splitDataset,
  type CsvDataset, type CsvDatasetOptions, type DatasetSplits, type SplitFractions,
} from './csv.js';
export { charLmFromLines, charLmSplits, loadTextLines, splitWords, type CharLmDataset, type CharLmOptions, type CharLmSplits, type WordSplits } from './text-lines.js';
