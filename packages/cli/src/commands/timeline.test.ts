import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { timelinePathOf } from './timeline.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-timeline-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runFolder(name: string, files: string[]): string {
  const path = join(dir, name);
  mkdirSync(path);
  for (const f of files) writeFileSync(join(path, f), '[]');
  return path;
}

describe('timelinePathOf: which file flotilla timeline draws', () => {
  it("a run folder's timeline.json, even after resumes that recorded their own", () => {
    const run = runFolder('first', ['timeline.json', 'timeline-from-step-40.json', 'metrics.jsonl']);
    expect(timelinePathOf(run)).toBe(join(run, 'timeline.json'));
  });

  it('without one, the latest resume\'s, by step number rather than by name', () => {
    const run = runFolder('resumed', ['timeline-from-step-9.json', 'timeline-from-step-40.json', 'timeline-from-step-100.json', 'timeline-old.json']);
    expect(timelinePathOf(run)).toBe(join(run, 'timeline-from-step-100.json'));
  });

  it('a file as it is, whatever its name', () => {
    const run = runFolder('file', ['trace.json']);
    expect(timelinePathOf(join(run, 'trace.json'))).toBe(join(run, 'trace.json'));
  });

  it('names the folder that has none, and the path that is not there', () => {
    const run = runFolder('none', ['metrics.jsonl', 'timeline.svg']);
    expect(() => timelinePathOf(run)).toThrow(`no timeline.json in ${run}: record one with flotilla train --timeline`);
    expect(() => timelinePathOf(join(dir, 'missing'))).toThrow(`no such run folder or file: ${join(dir, 'missing')}`);
  });
});
