import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A temp folder for this test file (removed afterwards): where a name lives, and a writer. */
export function scratchFiles(prefix: string): { inDir: (name: string) => string; write: (name: string, content: string | Uint8Array) => string } {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), prefix)); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
  const inDir = (name: string): string => join(dir, name);
  return {
    inDir,
    write: (name, content) => {
      writeFileSync(inDir(name), content);
      return inDir(name);
    },
  };
}

/** The error message `fn` throws (fails the test when it does not throw). */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}
