import { readFileSync } from 'node:fs';
import { decodeModelCheckpoint, type Checkpoint, type Model } from '@flotilla/core';

export interface LoadedCheckpoint {
  path: string;
  model: Model;
  checkpoint: Checkpoint;
}

/** Loads one checkpoint; a missing or corrupt file is an error that names it. */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`Cannot read checkpoint ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return { path, ...decodeModelCheckpoint(bytes) };
  } catch (error) {
    throw new Error(`Checkpoint ${path} is unusable: ${(error as Error).message}`);
  }
}

/**
 * Checkpoints for one ensemble or average must share an architecture: the same tensors with
 * the same shapes. The error names the two files and the first difference.
 */
export function checkSameArchitecture(loaded: readonly LoadedCheckpoint[]): void {
  const [first, ...rest] = loaded;
  if (!first) throw new Error('No checkpoints given');
  const describe = (m: Model): string[] => [...m.paramLayout, ...m.bufferLayout].map((e) => `${e.name} [${e.shape.join(', ')}]`);
  const reference = describe(first.model);
  for (const other of rest) {
    const mine = describe(other.model);
    const i = reference.findIndex((entry, k) => mine[k] !== entry);
    if (i >= 0 || mine.length !== reference.length) {
      const at = i >= 0 ? i : Math.min(mine.length, reference.length);
      throw new Error(`Checkpoints ${first.path} and ${other.path} have different architectures: ` +
        `${reference[at] ?? 'nothing'} in the first, ${mine[at] ?? 'nothing'} in the second`);
    }
  }
}
