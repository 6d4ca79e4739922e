import { CounterRng, type Dataset } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { messageOf, scratchFiles } from './scratch-files.js';
import { DataFormatError } from '../src/csv.js';
import { charLmFromLines, charLmSplits, loadTextLines, splitWords } from '../src/text-lines.js';

const { write, inDir } = scratchFiles('flotilla-lines-');

/** The examples as [context indices, label] pairs. */
const examples = (d: Dataset): [number[], number][] => {
  const c = d.inputShape[0];
  return Array.from({ length: d.count }, (_, e) => [Array.from(d.inputs.subarray(e * c, (e + 1) * c)), d.labels[e]]);
};

const ALPHABET = '.abcdefghijklmnopqrstuvwxyz';

describe('charLmFromLines', () => {
  it('makes the makemore examples of "emma" with context 3', () => {
    const { dataset, vocab } = charLmFromLines(['emma'], { context: 3 });
    // '.' + sorted characters seen: . a e m  →  0 1 2 3
    expect(vocab).toBe('.aem');
    expect(dataset.inputShape).toEqual([3]);
    expect(dataset.numClasses).toBe(4);
    expect(dataset.count).toBe(5);
    // ... → e, ..e → m, .em → m, emm → a, mma → .
    expect(Array.from(dataset.inputs)).toEqual([0, 0, 0, 0, 0, 2, 0, 2, 3, 2, 3, 3, 3, 3, 1]);
    expect(Array.from(dataset.labels)).toEqual([2, 3, 3, 1, 0]);
    expect(dataset.inputs).toBeInstanceOf(Float32Array);
    expect(dataset.labels).toBeInstanceOf(Int32Array);
  });

  it('uses a given vocabulary, restarts the padding at every word, trims and skips empty lines', () => {
    const { dataset, vocab, skippedLines } = charLmFromLines(['  ab ', '', '\t', 'ba'], { context: 2, vocab: ALPHABET });
    expect(vocab).toBe(ALPHABET);
    expect(dataset.numClasses).toBe(27);
    expect(skippedLines).toEqual([]);
    expect(examples(dataset)).toEqual([
      [[0, 0], 1],
      [[0, 1], 2],
      [[1, 2], 0],
      [[0, 0], 2],
      [[0, 2], 1],
      [[2, 1], 0],
    ]);
  });

  it('works with a context longer than the word, and lower-cases on request', () => {
    const { dataset, vocab } = charLmFromLines(['Bo'], { context: 4, lowercase: true });
    expect(vocab).toBe('.bo');
    expect(examples(dataset)).toEqual([
      [[0, 0, 0, 0], 1],
      [[0, 0, 0, 1], 2],
      [[0, 0, 1, 2], 0],
    ]);
    // Without lowercase, 'B' is its own character (sorted before 'o').
    expect(charLmFromLines(['Bo', 'bo'], { context: 1 }).vocab).toBe('.Bbo');
  });

  it('names the line and the character outside the vocabulary', () => {
    const lines = Array.from({ length: 14 }, () => 'anna');
    lines[11] = 'mary-jane';
    const error = (() => {
      try {
        charLmFromLines(lines, { context: 3, vocab: ALPHABET, source: 'names.txt' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toBe("names.txt: line 12: character '-' is not in the vocabulary '.abcdefghijklmnopqrstuvwxyz'");
    expect((error as DataFormatError).line).toBe(12);
    expect(messageOf(() => charLmFromLines(['ab', 'Cd'], { context: 3, vocab: ALPHABET }))).toBe("line 2: character 'C' is not in the vocabulary '.abcdefghijklmnopqrstuvwxyz'");
    expect(messageOf(() => charLmFromLines(['ab', 'a\u0000b'], { context: 3, vocab: ALPHABET }))).toBe("line 2: character U+0000 is not in the vocabulary '.abcdefghijklmnopqrstuvwxyz'");
  });

  it("rejects '.' inside a word, with or without a vocabulary", () => {
    expect(messageOf(() => charLmFromLines(['ann', '', 'j.r'], { context: 3 }))).toBe(
      "line 3: character '.' is reserved for the start and end of a word and cannot appear inside one",
    );
    expect(messageOf(() => charLmFromLines(['j.r'], { context: 3, vocab: ALPHABET, source: 'n.txt' }))).toMatch(/^n\.txt: line 1: character '\.' is reserved/);
  });

  it("skips bad lines with onUnknown: 'skip' and reports them", () => {
    const { dataset, skippedLines, vocab } = charLmFromLines(['ab', 'a-b', '', 'x.y', 'ba'], { context: 1, onUnknown: 'skip', vocab: '.ab-' });
    expect(skippedLines).toEqual([4]);
    expect(vocab).toBe('.ab-');
    expect(dataset.count).toBe(3 + 4 + 3);
    const defaults = charLmFromLines(['ab', 'x.y', 'ba'], { context: 1, onUnknown: 'skip' });
    expect(defaults.skippedLines).toEqual([2]);
    expect(defaults.vocab).toBe('.ab'); // 'x' and 'y' came only from the skipped line
    expect(messageOf(() => charLmFromLines(['a.'], { context: 1, onUnknown: 'skip' }))).toBe('no words left: all 1 non-empty lines were skipped');
  });

  it('checks its options and rejects input without words', () => {
    expect(messageOf(() => charLmFromLines(['', '  '], { context: 3, source: 'e.txt' }))).toBe('e.txt: no words: every line is empty');
    expect(() => charLmFromLines(['ab'], { context: 0 })).toThrow(/context must be a positive integer/);
    expect(() => charLmFromLines(['ab'], { context: 2, vocab: 'ab.' })).toThrow(/must start with '\.'/);
    expect(() => charLmFromLines(['ab'], { context: 2, vocab: '.abca' })).toThrow(/'a' appears twice/);
  });
});

describe('loadTextLines', () => {
  it('reads lines with CRLF or LF, keeping empty lines so numbers match the file', () => {
    const path = write('names.txt', '\ufeffemma\r\nolivia\r\n\r\nava\nmia\n');
    expect(loadTextLines(path)).toEqual(['emma', 'olivia', '', 'ava', 'mia']);
    expect(loadTextLines(write('nonl.txt', 'a\nb'))).toEqual(['a', 'b']);
    expect(loadTextLines(write('empty.txt', ''))).toEqual([]);
  });

  it('names a missing file', () => {
    const path = inDir('missing.txt');
    expect(messageOf(() => loadTextLines(path))).toBe(`text file not found: ${path}`);
  });

  it('rejects a file that is not UTF-8, naming the line of the bad byte', () => {
    const path = write('latin1.txt', Uint8Array.from([0x61, 0x6e, 0x6e, 0x0a, 0x7a, 0x6f, 0xeb, 0x0a]));
    expect(messageOf(() => loadTextLines(path))).toBe(`${path}: not UTF-8 text: byte 0xeb at line 2, byte offset 6 is invalid (save the file as UTF-8)`);
    // A truncated multi-byte sequence at the end, and an overlong encoding.
    expect(messageOf(() => loadTextLines(write('cut.txt', Uint8Array.from([0x61, 0x0a, 0x0a, 0xe2, 0x82]))))).toMatch(/byte 0xe2 at line 3, byte offset 3/);
    expect(messageOf(() => loadTextLines(write('overlong.txt', Uint8Array.from([0xc0, 0xaf]))))).toMatch(/byte 0xc0 at line 1, byte offset 0/);
  });

  it('feeds charLmFromLines with file line numbers', () => {
    const path = write('bad.txt', 'ann\n\nbob\r\nzo3\n');
    expect(messageOf(() => charLmFromLines(loadTextLines(path), { context: 2, vocab: ALPHABET, source: path }))).toBe(
      `${path}: line 4: character '3' is not in the vocabulary '${ALPHABET}'`,
    );
  });
});

describe('splitWords', () => {
  const words = Array.from({ length: 100 }, (_, i) => `w${i}`);

  it('shuffles words with CounterRng stream [8, 0] and cuts 80/10/10 by default', () => {
    const s = splitWords(words, undefined, 3);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([80, 10, 10]);
    const order = Array.from(new CounterRng(3).permutation(100, [8, 0]), (i) => `w${i}`);
    expect([...s.train, ...s.val, ...s.test]).toEqual(order);
  });

  it('is deterministic by seed, disjoint and complete', () => {
    const a = splitWords(words, { train: 0.5, val: 0.25, test: 0.25 }, 1);
    const b = splitWords(words, { train: 0.5, val: 0.25, test: 0.25 }, 1);
    const c = splitWords(words, { train: 0.5, val: 0.25, test: 0.25 }, 2);
    expect(a).toEqual(b);
    expect(a.train).not.toEqual(c.train);
    const all = [...a.train, ...a.val, ...a.test];
    expect(new Set(all).size).toBe(100);
    expect([...all].sort()).toEqual([...words].sort());
  });

  it('keeps every copy of a repeated word in one split', () => {
    const repeated = [...words, 'w7', 'w7', 'w42'];
    for (const seed of [0, 1, 2, 3]) {
      const s = splitWords(repeated, undefined, seed);
      expect(s.train.length + s.val.length + s.test.length).toBe(103);
      for (const w of ['w7', 'w42']) {
        const homes = [s.train, s.val, s.test].filter((part) => part.includes(w));
        expect(homes.length).toBe(1);
        expect(homes[0].filter((x) => x === w).length).toBe(w === 'w7' ? 3 : 2);
      }
    }
    // Fractions count distinct words: 100 distinct → 80/10/10.
    const s = splitWords(repeated, undefined, 0);
    expect([new Set(s.train).size, new Set(s.val).size, new Set(s.test).size]).toEqual([80, 10, 10]);
  });
});

describe('charLmSplits', () => {
  it('splits cleaned words, shares one vocabulary and keeps real line numbers in errors', () => {
    const lines = ['Emma', ' olivia', '', 'ava', 'isabella', 'sophia', 'emma', 'mia', 'amelia', 'harper', 'evelyn', 'abigail'];
    const s = charLmSplits(lines, { context: 3, lowercase: true, seed: 4 });
    const all = lines.map((l) => l.trim().toLowerCase()).filter((l) => l !== '');
    expect(s.vocab).toBe('.' + [...new Set(all.join(''))].sort().join(''));
    // 10 distinct words → 8/1/1; 'emma' (twice) sits in one split.
    expect([new Set(s.words.train).size, new Set(s.words.val).size, new Set(s.words.test).size]).toEqual([8, 1, 1]);
    const parts = [s.words.train, s.words.val, s.words.test];
    for (let p = 0; p < 3; p++) for (let q = p + 1; q < 3; q++) expect(parts[p].filter((w) => parts[q].includes(w))).toEqual([]);
    expect(parts.filter((part) => part.includes('emma')).length).toBe(1);
    const datasets = [s.train, s.val, s.test];
    for (let p = 0; p < 3; p++) {
      expect(datasets[p].count).toBe(parts[p].reduce((n, w) => n + w.length + 1, 0));
      expect(datasets[p].numClasses).toBe(s.vocab.length);
    }
    // The same as charLmFromLines on the split's words with the shared vocabulary.
    expect(Array.from(s.val.inputs)).toEqual(Array.from(charLmFromLines(s.words.val, { context: 3, vocab: s.vocab }).dataset.inputs));
    expect(messageOf(() => charLmSplits(['ann', 'b b', 'c.d'], { context: 2, source: 'x.txt' }))).toMatch(/^x\.txt: line 3: character '\.'/);
  });
});
