#!/usr/bin/env node
/**
 * Write Flotilla's train/val/test split of a character data set to a folder, exactly the
 * examples `flotilla train --dataset NAME` trains and evaluates on, for the PyTorch
 * reference script torch_charlm.py.
 *
 *   node scripts/peers/export_char_split.mjs names /tmp/names-split
 *   node scripts/peers/export_char_split.mjs lines:my-words.txt /tmp/my-split
 *
 * NAME is any character data set `loadDataset` knows (`names`, `words`, `lines:PATH`). The
 * folder gets, per split S in train, val, test: `S.inputs` (count × context character
 * indices, row-major) and `S.labels` (count indices), raw little-endian integers of the
 * dtype in `meta.json` (uint8 while the vocabulary has at most 256 characters, else int32),
 * and `meta.json` with dataset, vocab, context, dtype and each split's count. Needs the
 * packages built (`npm run build`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '@flotilla/datasets';

const PROG = 'export_char_split.mjs';

function fail(message) {
  process.stderr.write(`${PROG}: ${message}\n`);
  process.exit(2);
}

const [name, outDir] = process.argv.slice(2);
if (!name || !outDir || process.argv.length > 4) fail('usage: node scripts/peers/export_char_split.mjs DATASET OUT_DIR');

let splits;
try {
  splits = loadDataset(name);
} catch (e) {
  fail(`cannot load data set '${name}': ${e instanceof Error ? e.message : e}`);
}
if (!splits.vocab || !splits.val) fail(`'${name}' is not a character data set with a validation split`);

const vocabSize = Array.from(splits.vocab).length;
const dtype = vocabSize <= 256 ? 'uint8' : 'int32';
const Typed = dtype === 'uint8' ? Uint8Array : Int32Array;
const context = splits.train.inputShape.reduce((a, b) => a * b, 1);

mkdirSync(outDir, { recursive: true });
const counts = {};
for (const split of ['train', 'val', 'test']) {
  const d = splits[split];
  const inputs = Typed.from(d.inputs);
  const labels = Typed.from(d.labels);
  for (let i = 0; i < d.inputs.length; i++) {
    if (inputs[i] !== d.inputs[i]) fail(`${split}: input ${i} is ${d.inputs[i]}, not a character index`);
  }
  // Typed arrays are little-endian on every platform Node runs on in practice; say so if not.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) fail('big-endian platform: the raw files would be big-endian');
  writeFileSync(join(outDir, `${split}.inputs`), new Uint8Array(inputs.buffer));
  writeFileSync(join(outDir, `${split}.labels`), new Uint8Array(labels.buffer));
  counts[split] = d.count;
}
const meta = { dataset: name, vocab: splits.vocab, context, dtype, counts };
writeFileSync(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(meta)}\n`);
