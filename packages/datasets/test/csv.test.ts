import { mkdirSync } from 'node:fs';
import { CounterRng, type Dataset } from '@flotilla/core';
import { describe, expect, it } from 'vitest';
import { messageOf, scratchFiles } from './scratch-files.js';
import { DataFormatError, loadCsvDataset, parseCsvDataset, splitCounts, splitDataset } from '../src/csv.js';

const { write, inDir } = scratchFiles('flotilla-csv-');

const f32 = (values: number[]): number[] => Array.from(Float32Array.from(values));

describe('parseCsvDataset: good files', () => {
  it('reads a header, numeric features and string labels (sorted order), quotes, CRLF and blank lines', () => {
    const text = [
      'sepal_length,sepal_width,species,petal_width',
      '5.1, 3.5 ,setosa,0.2',
      '',
      '7.0,3.2,"versicolor",1.4',
      '  ',
      '6.3,-3.3e-1,"Iris, ""virginica""",2.5',
      '4.9,3,setosa,+.2',
      '',
    ].join('\r\n');
    const path = write('iris.csv', text);
    const { dataset, labelNames, featureNames } = loadCsvDataset(path, { labelColumn: 'species' });
    expect(featureNames).toEqual(['sepal_length', 'sepal_width', 'petal_width']);
    // Sorted (code unit order): 'Iris, "virginica"' < 'setosa' < 'versicolor'.
    expect(labelNames).toEqual(['Iris, "virginica"', 'setosa', 'versicolor']);
    expect(dataset.count).toBe(4);
    expect(dataset.inputShape).toEqual([3]);
    expect(dataset.numClasses).toBe(3);
    expect(Array.from(dataset.inputs)).toEqual(f32([5.1, 3.5, 0.2, 7.0, 3.2, 1.4, 6.3, -0.33, 2.5, 4.9, 3, 0.2]));
    expect(Array.from(dataset.labels)).toEqual([1, 2, 0, 1]);
    expect(dataset.inputs).toBeInstanceOf(Float32Array);
    expect(dataset.labels).toBeInstanceOf(Int32Array);
  });

  it('uses integer labels as class indices, and detects a header-less file', () => {
    const { dataset, labelNames, featureNames } = parseCsvDataset('2,0.5,1\n0,1.5,2\n3,2.5,3\n', { labelColumn: 0 });
    expect(featureNames).toEqual(['column 2', 'column 3']);
    expect(labelNames).toEqual(['0', '1', '2', '3']);
    expect(dataset.numClasses).toBe(4);
    expect(Array.from(dataset.labels)).toEqual([2, 0, 3]);
    expect(Array.from(dataset.inputs)).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
  });

  it('takes a negative label index from the end, and detects a header by a text cell', () => {
    const { dataset, featureNames, labelNames } = parseCsvDataset('a,b,y\n1,2,cat\n3,4,dog\n5,6,cat', { labelColumn: -1 });
    expect(featureNames).toEqual(['a', 'b']);
    expect(labelNames).toEqual(['cat', 'dog']);
    expect(Array.from(dataset.labels)).toEqual([0, 1, 0]);
    expect(Array.from(dataset.inputs)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('does not take a numeric first row for a header, even when labels are text', () => {
    const { dataset } = parseCsvDataset('1,2,cat\n3,4,dog', { labelColumn: 2 });
    expect(dataset.count).toBe(2);
    // An empty or non-finite cell in row 1 is bad data, not a header: it is reported, not swallowed.
    expect(messageOf(() => parseCsvDataset('1,,0\n3,4,1', { labelColumn: 2 }))).toBe('row 1, column 2: the value is empty');
    expect(messageOf(() => parseCsvDataset('nan,2,0\n3,4,1', { labelColumn: 2 }))).toBe("row 1, column 1: 'nan' is not a finite number");
  });

  it('keeps quoted delimiters and line breaks inside a field, and counts those lines', () => {
    const text = 'x;label\n1;"a;b"\n2;"two\nlines"\n3;zz;extra\n';
    expect(parseCsvDataset('x;label\n1;"a;b"\n2;"two\nlines"\n', { labelColumn: 'label', delimiter: ';' }).labelNames).toEqual(['a;b', 'two\nlines']);
    // The record after the two-line field starts on line 5.
    expect(messageOf(() => parseCsvDataset(text, { labelColumn: 'label', delimiter: ';' }))).toBe('row 5 has 3 columns, the header has 2');
  });

  it('maps labels through given class names', () => {
    const { dataset, labelNames } = parseCsvDataset('x,y\n1,b\n2,a', { labelColumn: 'y', classNames: ['b', 'a', 'c'] });
    expect(labelNames).toEqual(['b', 'a', 'c']);
    expect(dataset.numClasses).toBe(3);
    expect(Array.from(dataset.labels)).toEqual([0, 1]);
    expect(messageOf(() => parseCsvDataset('x,y\n1,b\n2,d', { labelColumn: 'y', classNames: ['a', 'b'], source: 't.csv' }))).toBe(
      "t.csv: row 3, column 'y': label 'd' is not one of the classes 'a', 'b'",
    );
  });

  it('keeps features raw (no standardisation)', () => {
    const { dataset } = parseCsvDataset('f,y\n1000,0\n-2000,1', { labelColumn: 'y' });
    expect(Array.from(dataset.inputs)).toEqual([1000, -2000]);
  });
});

describe('parseCsvDataset: bad rows', () => {
  const header = 'a,b,c,d,label';
  const rows = (n: number): string[] => Array.from({ length: n }, (_, i) => `${i},${i + 0.5},1,2,x${i % 2}`);

  it('names the row with the wrong number of columns (counting the header and blank lines)', () => {
    const lines = [header, ...rows(5)];
    lines[3] = ''; // a blank line 4 still counts
    lines.push('1,2,3,x1'); // line 7
    lines.push(...rows(2));
    const path = write('short.csv', lines.join('\n'));
    const error = (() => {
      try {
        loadCsvDataset(path, { labelColumn: 'label' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).message).toBe(`${path}: row 7 has 4 columns, the header has 5`);
    expect((error as DataFormatError).line).toBe(7);
    expect((error as DataFormatError).source).toBe(path);
  });

  it('compares with row 1 when there is no header', () => {
    expect(messageOf(() => parseCsvDataset('1,2,0\n3,4,1\n5,0', { labelColumn: 2, source: 'n.csv' }))).toBe('n.csv: row 3 has 2 columns, row 1 has 3');
  });

  it('names the row, the column and the value that is not a number', () => {
    const lines = [header, ...rows(10)];
    lines.push('1,2,3,abc,x0'); // line 12
    expect(messageOf(() => parseCsvDataset(lines.join('\n'), { labelColumn: 'label', source: 'f.csv' }))).toBe(
      "f.csv: row 12, column 'd': 'abc' is not a number",
    );
    expect(messageOf(() => parseCsvDataset('petal_width,y\n0.2,a\n1.2.3,b', { labelColumn: 'y', source: 'f.csv' }))).toBe(
      "f.csv: row 3, column 'petal_width': '1.2.3' is not a number",
    );
    expect(messageOf(() => parseCsvDataset('p,y\n0x10,a', { labelColumn: 'y' }))).toBe("row 2, column 'p': '0x10' is not a number");
  });

  it('rejects non-finite, out-of-range and empty features', () => {
    expect(messageOf(() => parseCsvDataset('p,y\n1,a\ninf,b', { labelColumn: 'y' }))).toBe("row 3, column 'p': 'inf' is not a finite number");
    expect(messageOf(() => parseCsvDataset('p,y\n1,a\nNaN,b', { labelColumn: 'y' }))).toBe("row 3, column 'p': 'NaN' is not a finite number");
    expect(messageOf(() => parseCsvDataset('p,y\n1e39,a', { labelColumn: 'y' }))).toBe("row 2, column 'p': '1e39' is too large for float32 (|x| > 3.4e38)");
    expect(messageOf(() => parseCsvDataset('p,q,y\n1, ,a', { labelColumn: 'y' }))).toBe("row 2, column 'q': the value is empty");
    // Without a header the column is named by its 1-based position in the file.
    expect(messageOf(() => parseCsvDataset('1,2,0\n3,x,1', { labelColumn: 2, hasHeader: false }))).toBe("row 2, column 2: 'x' is not a number");
  });

  it('rejects an empty label', () => {
    expect(messageOf(() => parseCsvDataset('p,y\n1,a\n2,\n', { labelColumn: 'y', source: 'l.csv' }))).toBe("l.csv: row 3, column 'y': the label is empty");
    expect(messageOf(() => parseCsvDataset('p,y\n1,a\n2,""\n', { labelColumn: 'y' }))).toBe("row 3, column 'y': the label is empty");
  });

  it('rejects an unknown label column name and an out-of-range index', () => {
    expect(messageOf(() => parseCsvDataset('a,b,species\n1,2,x', { labelColumn: 'class', source: 'u.csv' }))).toBe(
      "u.csv: unknown label column 'class'; the header (row 1) has 'a', 'b', 'species'",
    );
    expect(messageOf(() => parseCsvDataset('1,2,0', { labelColumn: 3 }))).toBe('label column 3 is out of range: row 1 has 3 columns (indices 0..2, or -3..-1 from the end)');
    expect(messageOf(() => parseCsvDataset('a,a\n1,2', { labelColumn: 'a' }))).toBe("label column 'a' appears 2 times in the header (columns 1, 2); give its 0-based index instead");
  });

  it('rejects an empty file and a file without data rows', () => {
    expect(messageOf(() => loadCsvDataset(write('empty.csv', ''), { labelColumn: 0 }))).toBe(`${inDir('empty.csv')}: the file is empty (no rows)`);
    expect(messageOf(() => parseCsvDataset('\r\n  \n\n', { labelColumn: 0, source: 'e.csv' }))).toBe('e.csv: the file is empty (no rows)');
    expect(messageOf(() => parseCsvDataset('a,b,label\n\n', { labelColumn: 'label', source: 'h.csv' }))).toBe('h.csv: no data rows: the file has only the header (row 1)');
    expect(messageOf(() => parseCsvDataset('\na,b,label\n', { labelColumn: -1, source: 'h.csv' }))).toBe('h.csv: no data rows: the file has only the header (row 2)');
  });

  it('rejects a one-column file and malformed quoting', () => {
    expect(messageOf(() => parseCsvDataset('a;b\n1;2', { labelColumn: 0 }))).toBe(
      'row 1 has only one column, but a data set needs a label column and at least one feature column (is the delimiter "," right?)',
    );
    expect(messageOf(() => parseCsvDataset('a,y\n1,"open\n2,b\n', { labelColumn: 'y' }))).toBe(`row 2, column 2: the quoted field is never closed (a '"' is missing)`);
    expect(messageOf(() => parseCsvDataset('a,y\n1,ab"c"\n', { labelColumn: 'y' }))).toMatch(/^row 2, column 2: a '"' inside an unquoted field/);
    expect(messageOf(() => parseCsvDataset('a,y\n1,"ab"c\n', { labelColumn: 'y' }))).toMatch(/^row 2, column 2: unexpected "c" after the closing quote/);
  });

  it('a forced header-less read of a file with a header fails on row 1', () => {
    expect(messageOf(() => parseCsvDataset('a,y\n1,b', { labelColumn: 1, hasHeader: false }))).toBe("row 1, column 1: 'a' is not a number");
  });
});

describe('loadCsvDataset: files', () => {
  it('names a missing file', () => {
    const path = inDir('nope.csv');
    expect(messageOf(() => loadCsvDataset(path, { labelColumn: 0 }))).toBe(`CSV file not found: ${path}`);
  });
  it('names a directory', () => {
    const sub = inDir('sub.csv');
    mkdirSync(sub, { recursive: true });
    expect(messageOf(() => loadCsvDataset(sub, { labelColumn: 0 }))).toBe(`${sub} is a directory, not a CSV file`);
  });
  it('rejects a file that is not UTF-8, naming the line', () => {
    const path = write('latin1.csv', Uint8Array.from([...Buffer.from('a,y\n1,x\n2,'), 0xe9, 0x0a]));
    expect(messageOf(() => loadCsvDataset(path, { labelColumn: 'y' }))).toBe(`${path}: not UTF-8 text: byte 0xe9 at line 3, byte offset 10 is invalid (save the file as UTF-8)`);
  });
  it('drops a byte-order mark and reads UTF-8 labels', () => {
    const path = write('bom.csv', '\ufeffx,y\n1,café\n2,ß\n');
    const { labelNames, featureNames } = loadCsvDataset(path, { labelColumn: 'y' });
    expect(featureNames).toEqual(['x']);
    expect(labelNames).toEqual(['café', 'ß']);
  });
});

describe('splitDataset', () => {
  // Sample i has features [i, -i] and label i % 3, so rows can be traced.
  const make = (n: number): Dataset => {
    const inputs = new Float32Array(2 * n);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      inputs[2 * i] = i;
      inputs[2 * i + 1] = -i;
      labels[i] = i % 3;
    }
    return { inputs, inputShape: [2], labels, count: n, numClasses: 3 };
  };
  const ids = (d: Dataset): number[] => Array.from({ length: d.count }, (_, j) => d.inputs[2 * j]);

  it('cuts the CounterRng permutation (stream [7, 0]) into 80/10/10 copies, rows intact', () => {
    const data = make(10);
    const s = splitDataset(data, { train: 0.8, val: 0.1, test: 0.1 }, 5);
    expect([s.train.count, s.val.count, s.test.count]).toEqual([8, 1, 1]);
    const order = Array.from(new CounterRng(5).permutation(10, [7, 0]));
    expect([...ids(s.train), ...ids(s.val), ...ids(s.test)]).toEqual(order);
    for (const part of [s.train, s.val, s.test]) {
      expect(part.inputShape).toEqual([2]);
      expect(part.numClasses).toBe(3);
      expect(part.inputs.length).toBe(2 * part.count);
      for (let j = 0; j < part.count; j++) {
        const i = part.inputs[2 * j];
        expect(part.inputs[2 * j + 1]).toBe(-i);
        expect(part.labels[j]).toBe(i % 3);
      }
    }
    // Copies: writing a split leaves the original alone.
    s.train.inputs.fill(99);
    s.train.labels.fill(2);
    expect(data.inputs[2]).toBe(1);
    expect(data.labels[1]).toBe(1);
  });

  it('is deterministic by seed, disjoint and complete', () => {
    const data = make(103);
    const a = splitDataset(data, { train: 0.7, val: 0.2, test: 0.1 }, 11);
    const b = splitDataset(data, { train: 0.7, val: 0.2, test: 0.1 }, 11);
    const c = splitDataset(data, { train: 0.7, val: 0.2, test: 0.1 }, 12);
    expect(ids(a.train)).toEqual(ids(b.train));
    expect(ids(a.val)).toEqual(ids(b.val));
    expect(ids(a.test)).toEqual(ids(b.test));
    expect(ids(a.train)).not.toEqual(ids(c.train));
    expect([a.train.count, a.val.count, a.test.count]).toEqual([72, 21, 10]);
    const all = [...ids(a.train), ...ids(a.val), ...ids(a.test)];
    expect(new Set(all).size).toBe(103);
    expect([...all].sort((x, y) => x - y)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    // Not the identity order.
    expect(ids(a.train).slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('defaults to 80/10/10 and checks the fractions', () => {
    const s = splitDataset(make(20));
    expect([s.train.count, s.val.count, s.test.count]).toEqual([16, 2, 2]);
    expect(() => splitDataset(make(5), { train: 0.8, val: 0.3, test: 0.1 }, 0)).toThrow(/add up to 1/);
    expect(() => splitDataset(make(5), { train: 1.2, val: -0.1, test: -0.1 }, 0)).toThrow(/non-negative/);
    expect(splitCounts(3, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 2, val: 1, test: 0 });
    expect(splitCounts(7, { train: 0.5, val: 0.25, test: 0.25 })).toEqual({ train: 4, val: 1, test: 2 });
    expect(splitCounts(0, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 0, val: 0, test: 0 });
  });
});
