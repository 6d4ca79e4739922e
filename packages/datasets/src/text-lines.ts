/**
 * A character-level language-model data set from a text file of words, one per line (names,
 * say), as in makemore: each example is the `context` previous characters (as indices, padded
 * with '.' = 0 before the word starts) and its label is the next character, '.' after the last.
 *
 * Decisions:
 * - '.' is index 0 and marks the word boundary, so it cannot appear inside a word.
 * - Characters are Unicode code points (not UTF-16 units); the default vocabulary is '.'
 *   followed by every character seen, sorted by code point.
 * - Line numbers in messages are 1-based positions in the `lines` array, which are the file's
 *   line numbers for `loadTextLines` output (it keeps empty lines so the numbering holds).
 * - Split by word, never by example (`splitWords`, `charLmSplits`), and a word that occurs
 *   more than once goes to one split with all its copies, so no word is in two splits.
 */
import { CounterRng, type Dataset } from '@flotilla/core';
import { DataFormatError, DEFAULT_SPLIT_FRACTIONS, readUtf8File, splitCounts, type SplitFractions } from './csv.js';

/** Index 0 of every vocabulary: the padding before a word and the label after its end. */
export const BOUNDARY = '.';

export interface CharLmOptions {
  /** Number of previous characters each example sees (a positive integer, e.g. 8). */
  context: number;
  /** The characters in index order, starting with '.'. Default: '.' + the sorted set of characters seen. */
  vocab?: string;
  /** File name for messages. */
  source?: string;
  /** What to do with a line holding '.' or a character outside `vocab`: throw (default) or leave the line out. */
  onUnknown?: 'error' | 'skip';
  /** Lower-case each line before anything else (default false). */
  lowercase?: boolean;
}

export interface CharLmDataset {
  /** inputShape [context]; inputs are character indices stored as floats; numClasses = vocab length. */
  dataset: Dataset;
  vocab: string;
  /** 1-based numbers of the lines left out with `onUnknown: 'skip'` (empty otherwise). */
  skippedLines: number[];
}

export interface WordSplits {
  train: string[];
  val: string[];
  test: string[];
}

export interface CharLmSplits {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  vocab: string;
  /** The words of each split. */
  words: WordSplits;
  skippedLines: number[];
}

/**
 * Read a text file (UTF-8) as lines: LF, CRLF or CR endings; a trailing newline adds no
 * extra line; a byte-order mark is dropped. Lines are not trimmed and empty lines are kept,
 * so index + 1 is the line number. Clear errors for a missing or non-UTF-8 file.
 */
export function loadTextLines(path: string): string[] {
  const text = readUtf8File(path, 'text file');
  if (text === '') return [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The makemore examples of every word (line) in `lines`: for a word w and context c, the
 * |w| + 1 examples are (the c indices before position t, padded with 0) → index of w[t],
 * and finally (the last c characters) → 0 ('.'). Lines are trimmed (and lower-cased with
 * `lowercase`); empty lines are skipped.
 */
export function charLmFromLines(lines: string[], options: CharLmOptions): CharLmDataset {
  checkContext(options.context);
  const clean = cleanWords(lines, options);
  return { dataset: examplesOf(clean.words, clean.index, clean.vocab.length, options.context), vocab: clean.vocab, skippedLines: clean.skippedLines };
}

/**
 * Shuffle the distinct words with `new CounterRng(seed).permutation(distinct, [8, 0])` and
 * cut them into train, val and test (default 80/10/10 of the distinct words; sizes from
 * `splitCounts`). Every copy of a repeated word goes with it, so no word is in two splits.
 * Words are compared exactly (clean them first, or use `charLmSplits`).
 */
export function splitWords(words: string[], fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS, seed = 0): WordSplits {
  const copies = new Map<string, number>();
  for (const w of words) copies.set(w, (copies.get(w) ?? 0) + 1);
  const distinct = [...copies.keys()];
  const sizes = splitCounts(distinct.length, fractions);
  const order = new CounterRng(seed).permutation(distinct.length, [8, 0]);
  const take = (start: number, end: number): string[] => {
    const out: string[] = [];
    for (let j = start; j < end; j++) {
      const w = distinct[order[j]];
      for (let k = copies.get(w) as number; k > 0; k--) out.push(w);
    }
    return out;
  };
  const cut1 = sizes.train;
  const cut2 = cut1 + sizes.val;
  return { train: take(0, cut1), val: take(cut1, cut2), test: take(cut2, distinct.length) };
}

/**
 * `charLmFromLines` on train, val and test splits of the words: checks every line first (so
 * errors carry the real line numbers), builds one vocabulary from all kept words, splits the
 * cleaned words with `splitWords` and makes each split's examples.
 */
export function charLmSplits(lines: string[], options: CharLmOptions & { fractions?: SplitFractions; seed?: number }): CharLmSplits {
  checkContext(options.context);
  const clean = cleanWords(lines, options);
  const words = splitWords(clean.words, options.fractions ?? DEFAULT_SPLIT_FRACTIONS, options.seed ?? 0);
  const make = (ws: string[]): Dataset => examplesOf(ws, clean.index, clean.vocab.length, options.context);
  return { train: make(words.train), val: make(words.val), test: make(words.test), vocab: clean.vocab, words, skippedLines: clean.skippedLines };
}

function checkContext(context: number): void {
  if (!Number.isInteger(context) || context < 1) throw new Error(`charLm: context must be a positive integer (got ${context})`);
}

interface CleanWords {
  words: string[];
  vocab: string;
  index: Map<string, number>;
  skippedLines: number[];
}

function cleanWords(lines: string[], options: CharLmOptions): CleanWords {
  const { source } = options;
  const skip = (options.onUnknown ?? 'error') === 'skip';
  if (options.onUnknown !== undefined && options.onUnknown !== 'error' && options.onUnknown !== 'skip') {
    throw new Error(`charLm: onUnknown must be 'error' or 'skip' (got ${JSON.stringify(options.onUnknown)})`);
  }
  let given: Map<string, number> | undefined;
  if (options.vocab !== undefined) {
    const chars = Array.from(options.vocab);
    if (chars[0] !== BOUNDARY) throw new Error(`charLm: the vocabulary must start with '${BOUNDARY}' (got '${options.vocab}')`);
    given = new Map();
    for (const ch of chars) {
      if (given.has(ch)) throw new Error(`charLm: character ${show(ch)} appears twice in the vocabulary '${options.vocab}'`);
      given.set(ch, given.size);
    }
  }

  const words: string[] = [];
  const skippedLines: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    let word = lines[i].trim();
    if (options.lowercase) word = word.toLowerCase();
    if (word === '') continue;
    let problem: string | undefined;
    for (const ch of word) {
      if (ch === BOUNDARY) {
        problem = `character '${BOUNDARY}' is reserved for the start and end of a word and cannot appear inside one`;
        break;
      }
      if (given !== undefined && !given.has(ch)) {
        problem = `character ${show(ch)} is not in the vocabulary '${options.vocab}'`;
        break;
      }
    }
    if (problem !== undefined) {
      if (skip) {
        skippedLines.push(i + 1);
        continue;
      }
      throw new DataFormatError(`line ${i + 1}: ${problem}`, source, i + 1);
    }
    words.push(word);
    if (given === undefined) for (const ch of word) seen.add(ch);
  }
  if (words.length === 0) {
    throw new DataFormatError(
      skippedLines.length > 0 ? `no words left: all ${skippedLines.length} non-empty lines were skipped` : 'no words: every line is empty',
      source,
    );
  }

  let index = given;
  if (index === undefined) {
    index = new Map([[BOUNDARY, 0]]);
    const sorted = [...seen].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
    for (const ch of sorted) index.set(ch, index.size);
  }
  return { words, vocab: [...index.keys()].join(''), index, skippedLines };
}

function examplesOf(words: string[], index: Map<string, number>, vocabSize: number, context: number): Dataset {
  let count = 0;
  const encoded = words.map((w) => {
    const ids = Array.from(w, (ch) => index.get(ch) as number);
    count += ids.length + 1;
    return ids;
  });
  const inputs = new Float32Array(count * context);
  const labels = new Int32Array(count);
  const window = new Array<number>(context);
  let e = 0;
  for (const ids of encoded) {
    window.fill(0);
    for (let t = 0; t <= ids.length; t++) {
      const next = t < ids.length ? ids[t] : 0;
      for (let k = 0; k < context; k++) inputs[e * context + k] = window[k];
      labels[e] = next;
      e++;
      window.shift();
      window.push(next);
    }
  }
  return { inputs, inputShape: [context], labels, count, numClasses: vocabSize };
}

/** A character for a message: itself in quotes when visible, else its code point. */
function show(ch: string): string {
  const hex = `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
  if (ch === "'") return `"'"`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `'${ch}'` : `${hex}`;
}
