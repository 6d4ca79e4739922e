/**
 * Users' own tabular data: a CSV file of numeric feature columns and one label column, read
 * into a `Dataset`, with errors that name the file, the row and what is wrong with it.
 *
 * Decisions (also in the doc comments below):
 * - Features are kept raw (parsed to float32, not standardised or scaled); do that in the
 *   model or beforehand if the columns have very different ranges.
 * - Labels: when every label is a non-negative integer literal (`0`, `3`, `12`) the labels are
 *   the class indices themselves, `numClasses` is the largest label + 1 and `labelNames` is
 *   `['0', '1', ...]` (so labels 1..K leave class 0 empty). Otherwise the labels are names, and
 *   class `i` is the `i`-th distinct name in sorted (UTF-16 code unit) order — not order of
 *   first appearance — so the mapping does not depend on the order of the rows. Pass
 *   `classNames` to fix the mapping yourself (e.g. a test file that must match the train file).
 * - Row numbers in messages are 1-based line numbers as an editor shows them: the header is
 *   line 1, blank lines count, and a quoted field spanning lines moves later rows down.
 * - Cells are trimmed of surrounding spaces; spaces around a quoted field are ignored.
 */
import { readFileSync } from 'node:fs';
import { CounterRng, type Dataset } from '@flotilla/core';

/** A problem with the contents of a data file, with the file and 1-based line when known. */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';
  constructor(
    message: string,
    /** File name (or `source` option) the data came from, when given. */
    readonly source?: string,
    /** 1-based line (row) number of the problem, when it has one. */
    readonly line?: number,
  ) {
    super(source === undefined ? message : `${source}: ${message}`);
  }
}

export interface CsvDatasetOptions {
  /** The label column: its header name, or its 0-based index (negative counts from the end: -1 is the last). */
  labelColumn: string | number;
  /**
   * Whether the first row is a header. Default: detected — true when some feature cell of the
   * first row is neither empty nor a number. A label column given by name implies a header.
   */
  hasHeader?: boolean;
  /** Field separator, one character (default ','; ';' and '\t' work too). */
  delimiter?: string;
  /** File name for messages (loadCsvDataset passes the path). */
  source?: string;
  /**
   * The class names in class-index order. When given, each label must be one of them, and
   * `labelNames` is this list; use it to give several files the same mapping.
   */
  classNames?: string[];
}

export interface CsvDataset {
  /** inputShape [number of feature columns], raw float32 features, int32 class labels. */
  dataset: Dataset;
  /** Name of each class index. */
  labelNames: string[];
  /** Feature column names in order (from the header, or `column N` with N the 1-based column of the file). */
  featureNames: string[];
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface DatasetSplits {
  train: Dataset;
  val: Dataset;
  test: Dataset;
}

export const DEFAULT_SPLIT_FRACTIONS: Readonly<SplitFractions> = Object.freeze({ train: 0.8, val: 0.1, test: 0.1 });

interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
  /** A line with nothing but spaces: skipped. */
  blank: boolean;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const INTEGER_LABEL = /^\d+$/;
/** Integer labels are class indices; beyond this they are surely ids, not classes. */
const MAX_INTEGER_LABEL = 1_000_000;

/** Read a CSV file (UTF-8) into a data set; see `parseCsvDataset`. Messages name `path`. */
export function loadCsvDataset(path: string, options: CsvDatasetOptions): CsvDataset {
  const text = readUtf8File(path, 'CSV file');
  return parseCsvDataset(text, { ...options, source: options.source ?? path });
}

/**
 * Parse CSV text (RFC 4180: quoted fields may hold the delimiter, line breaks and `""` for a
 * quote; CRLF or LF line endings; a trailing newline and blank lines are fine) whose columns
 * are numeric features and one label column. Throws `DataFormatError` naming the row.
 */
export function parseCsvDataset(text: string, options: CsvDatasetOptions): CsvDataset {
  const source = options.source;
  const fail = (message: string, line?: number): never => {
    throw new DataFormatError(message, source, line);
  };
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`parseCsvDataset: delimiter must be one character other than a quote or a line break (got ${JSON.stringify(delimiter)})`);
  }

  const records = tokenizeCsv(text, delimiter, fail).filter((r) => !r.blank);
  if (records.length === 0) fail('the file is empty (no rows)');
  const first = records[0];
  const width = first.fields.length;
  if (width < 2) {
    fail(
      `row ${first.line} has only one column, but a data set needs a label column and at least one feature column` +
        ` (is the delimiter ${JSON.stringify(delimiter)} right?)`,
      first.line,
    );
  }

  // The label column, and whether row 1 is a header.
  let labelIndex: number;
  let hasHeader: boolean;
  const { labelColumn } = options;
  if (typeof labelColumn === 'string') {
    if (options.hasHeader === false) {
      throw new Error(`parseCsvDataset: label column '${labelColumn}' is given by name, but hasHeader is false; give its 0-based index instead`);
    }
    hasHeader = true;
    const names = first.fields.map((f) => f.trim());
    const wanted = labelColumn.trim();
    const found: number[] = [];
    names.forEach((name, c) => {
      if (name === wanted) found.push(c);
    });
    if (found.length === 0) {
      fail(`unknown label column '${labelColumn}'; the header (row ${first.line}) has ${names.map((n) => `'${n}'`).join(', ')}`, first.line);
    }
    if (found.length > 1) {
      fail(`label column '${labelColumn}' appears ${found.length} times in the header (columns ${found.map((c) => c + 1).join(', ')}); give its 0-based index instead`, first.line);
    }
    labelIndex = found[0];
  } else {
    if (!Number.isInteger(labelColumn)) throw new Error(`parseCsvDataset: labelColumn must be a name or an integer index (got ${labelColumn})`);
    labelIndex = labelColumn < 0 ? width + labelColumn : labelColumn;
    if (labelIndex < 0 || labelIndex >= width) {
      fail(`label column ${labelColumn} is out of range: row ${first.line} has ${width} columns (indices 0..${width - 1}, or -${width}..-1 from the end)`, first.line);
    }
    hasHeader = options.hasHeader ?? first.fields.some((cell, c) => c !== labelIndex && looksLikeHeaderCell(cell));
  }

  const featureColumns: number[] = [];
  for (let c = 0; c < width; c++) if (c !== labelIndex) featureColumns.push(c);
  const columnNames = first.fields.map((cell, c) => {
    const name = hasHeader ? cell.trim() : '';
    return name === '' ? `column ${c + 1}` : name;
  });
  const columnLabel = (c: number): string => (hasHeader && first.fields[c].trim() !== '' ? `column '${columnNames[c]}'` : `column ${c + 1}`);

  const rows = hasHeader ? records.slice(1) : records;
  if (rows.length === 0) fail(`no data rows: the file has only the header (row ${first.line})`, first.line);

  const count = rows.length;
  const numFeatures = featureColumns.length;
  const inputs = new Float32Array(count * numFeatures);
  const rawLabels: string[] = new Array(count);
  for (let r = 0; r < count; r++) {
    const { line, fields } = rows[r];
    if (fields.length !== width) {
      const what = hasHeader ? 'the header has' : `row ${first.line} has`;
      fail(`row ${line} has ${fields.length} column${fields.length === 1 ? '' : 's'}, ${what} ${width}`, line);
    }
    for (let f = 0; f < numFeatures; f++) {
      const c = featureColumns[f];
      const cell = fields[c].trim();
      if (cell === '') fail(`row ${line}, ${columnLabel(c)}: the value is empty`, line);
      if (NON_FINITE.test(cell)) fail(`row ${line}, ${columnLabel(c)}: '${cell}' is not a finite number`, line);
      if (!NUMBER.test(cell)) fail(`row ${line}, ${columnLabel(c)}: '${cell}' is not a number`, line);
      const value = Math.fround(Number(cell));
      if (!Number.isFinite(value)) fail(`row ${line}, ${columnLabel(c)}: '${cell}' is too large for float32 (|x| > 3.4e38)`, line);
      inputs[r * numFeatures + f] = value;
    }
    const label = fields[labelIndex].trim();
    if (label === '') fail(`row ${line}, ${columnLabel(labelIndex)}: the label is empty`, line);
    rawLabels[r] = label;
  }

  // Class indices.
  const labels = new Int32Array(count);
  let labelNames: string[];
  if (options.classNames !== undefined) {
    labelNames = [...options.classNames];
    const index = new Map<string, number>();
    labelNames.forEach((name, i) => {
      if (index.has(name)) throw new Error(`parseCsvDataset: class name '${name}' appears twice in classNames`);
      index.set(name, i);
    });
    for (let r = 0; r < count; r++) {
      const k = index.get(rawLabels[r]);
      if (k === undefined) {
        fail(`row ${rows[r].line}, ${columnLabel(labelIndex)}: label '${rawLabels[r]}' is not one of the classes ${labelNames.map((n) => `'${n}'`).join(', ')}`, rows[r].line);
      }
      labels[r] = k as number;
    }
  } else if (rawLabels.every((l) => INTEGER_LABEL.test(l))) {
    let max = 0;
    for (let r = 0; r < count; r++) {
      const k = Number(rawLabels[r]);
      if (k > MAX_INTEGER_LABEL) {
        fail(
          `row ${rows[r].line}, ${columnLabel(labelIndex)}: label ${rawLabels[r]} is too large for a class index (integer labels must be 0..K-1 with K <= ${MAX_INTEGER_LABEL + 1})`,
          rows[r].line,
        );
      }
      labels[r] = k;
      if (k > max) max = k;
    }
    labelNames = Array.from({ length: max + 1 }, (_, k) => String(k));
  } else {
    labelNames = [...new Set(rawLabels)].sort();
    const index = new Map(labelNames.map((name, i) => [name, i] as const));
    for (let r = 0; r < count; r++) labels[r] = index.get(rawLabels[r]) as number;
  }

  return {
    dataset: { inputs, inputShape: [numFeatures], labels, count, numClasses: labelNames.length },
    labelNames,
    featureNames: featureColumns.map((c) => columnNames[c]),
  };
}

/** A first-row cell that is text rather than a (possibly missing or non-finite) number. */
function looksLikeHeaderCell(cell: string): boolean {
  const t = cell.trim();
  return t !== '' && !NUMBER.test(t) && !NON_FINITE.test(t);
}

/** Split CSV text into records of raw (untrimmed, unquoted) fields, RFC 4180 style. */
function tokenizeCsv(text: string, delimiter: string, fail: (message: string, line?: number) => never): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  let line = 1;
  const isSpace = (ch: string): boolean => (ch === ' ' || ch === '\t') && ch !== delimiter;
  const isBreak = (ch: string): boolean => ch === '\n' || ch === '\r';

  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let anyQuoted = false;
    for (;;) {
      const column = fields.length + 1;
      let j = i;
      while (j < n && isSpace(text[j])) j++;
      if (j < n && text[j] === '"') {
        // Quoted field: runs to the next lone quote; "" is a quote; may span lines.
        anyQuoted = true;
        let value = '';
        let k = j + 1;
        for (;;) {
          const q = text.indexOf('"', k);
          if (q < 0) {
            fail(`row ${startLine}, column ${column}: the quoted field is never closed (a '"' is missing)`, startLine);
          }
          value += text.slice(k, q);
          if (text[q + 1] === '"') {
            value += '"';
            k = q + 2;
          } else {
            k = q + 1;
            break;
          }
        }
        line += countLineBreaks(text, j, k);
        while (k < n && isSpace(text[k])) k++;
        if (k < n && text[k] !== delimiter && !isBreak(text[k])) {
          fail(
            `row ${startLine}, column ${column}: unexpected ${JSON.stringify(text[k])} after the closing quote of a quoted field (write a quote inside a quoted field as "")`,
            startLine,
          );
        }
        fields.push(value);
        i = k;
      } else {
        let k = i;
        while (k < n && text[k] !== delimiter && !isBreak(text[k])) {
          if (text[k] === '"') {
            fail(`row ${startLine}, column ${column}: a '"' inside an unquoted field (quote the whole field and double the quote: "a ""b"" c")`, startLine);
          }
          k++;
        }
        fields.push(text.slice(i, k));
        i = k;
      }
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      if (i < n) {
        // End of the line: CRLF, LF or a lone CR.
        i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
      }
      break;
    }
    records.push({ line: startLine, fields, blank: !anyQuoted && fields.length === 1 && fields[0].trim() === '' });
  }
  return records;
}

/** Line breaks (CRLF, LF or lone CR, each counted once) in text[start, end). */
function countLineBreaks(text: string, start: number, end: number): number {
  let breaks = 0;
  for (let i = start; i < end; i++) {
    const ch = text[i];
    if (ch === '\n') breaks++;
    else if (ch === '\r' && text[i + 1] !== '\n') breaks++;
  }
  return breaks;
}

/**
 * Read a UTF-8 text file (a leading byte-order mark is dropped). Throws a clear error for a
 * missing file, a directory, and a file that is not UTF-8 text (with the line of the first bad byte).
 */
export function readUtf8File(path: string, what = 'file'): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${what} not found: ${path}`, { cause: error });
    if (code === 'EISDIR') throw new Error(`${path} is a directory, not a ${what}`, { cause: error });
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`cannot read ${what} ${path}: permission denied`, { cause: error });
    throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const lineOf = lineOfOffset(bytes, at);
    throw new DataFormatError(
      `not UTF-8 text: byte 0x${bytes[at].toString(16).padStart(2, '0')} at line ${lineOf}, byte offset ${at} is invalid (save the file as UTF-8)`,
      path,
      lineOf,
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const lineOf = text.slice(0, nul).split('\n').length;
    throw new DataFormatError(`line ${lineOf} contains a NUL character; is this a text file?`, path, lineOf);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (bytes.length if none). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const c = bytes[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let more: number;
    if (c >= 0xc2 && c <= 0xdf) more = 1;
    else if (c >= 0xe0 && c <= 0xef) more = 2;
    else if (c >= 0xf0 && c <= 0xf4) more = 3;
    else return i;
    let lo = 0x80;
    let hi = 0xbf;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
    else if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
    if (i + 1 >= n || bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (let k = 2; k <= more; k++) if (i + k >= n || (bytes[i + k] & 0xc0) !== 0x80) return i;
    i += more + 1;
  }
  return n;
}

function lineOfOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * How many of `n` items go to train, val and test: cut points at round(n·train) and
 * round(n·(train + val)), so the three add up to n. The fractions must be non-negative and sum to 1.
 */
export function splitCounts(n: number, fractions: SplitFractions): SplitFractions {
  const { train, val, test } = fractions;
  const ok = [train, val, test].every((f) => Number.isFinite(f) && f >= 0);
  if (!ok || Math.abs(train + val + test - 1) > 1e-9) {
    throw new Error(`split fractions must be non-negative and add up to 1 (got train ${train} + val ${val} + test ${test})`);
  }
  const cut1 = Math.min(n, Math.round(n * train));
  const cut2 = Math.min(n, Math.max(cut1, Math.round(n * (train + val))));
  return { train: cut1, val: cut2 - cut1, test: n - cut2 };
}

/**
 * Shuffle the samples with `new CounterRng(seed).permutation(count, [7, 0])` and cut the
 * shuffled order into train, val and test (sizes from `splitCounts`). The results are copies,
 * in shuffled order; the same seed always gives the same split.
 */
export function splitDataset(data: Dataset, fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS, seed = 0): DatasetSplits {
  const features = data.inputShape.reduce((a, b) => a * b, 1);
  if (data.inputs.length !== data.count * features || data.labels.length !== data.count) {
    throw new Error(`splitDataset: ${data.count} samples of shape [${data.inputShape.join(', ')}] need ${data.count * features} inputs and ${data.count} labels (got ${data.inputs.length} and ${data.labels.length})`);
  }
  const sizes = splitCounts(data.count, fractions);
  const order = new CounterRng(seed).permutation(data.count, [7, 0]);
  const take = (start: number, end: number): Dataset => {
    const count = end - start;
    const inputs = new Float32Array(count * features);
    const labels = new Int32Array(count);
    for (let j = 0; j < count; j++) {
      const p = order[start + j];
      inputs.set(data.inputs.subarray(p * features, (p + 1) * features), j * features);
      labels[j] = data.labels[p];
    }
    return { inputs, inputShape: [...data.inputShape], labels, count, numClasses: data.numClasses };
  };
  const cut1 = sizes.train;
  const cut2 = cut1 + sizes.val;
  return { train: take(0, cut1), val: take(cut1, cut2), test: take(cut2, data.count) };
}
