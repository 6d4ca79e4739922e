import { appendFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDir } from '../src/run-dir.js';

const records = (dir: RunDir): Array<{ kind: string; step: number }> =>
  readFileSync(join(dir.path, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string; step: number });

describe('RunDir.truncateMetricsAt (before a resume)', () => {
  it('keeps the steps before the checkpoint and the epochs up to it, drops the rest and a torn last line', () => {
    const dir = new RunDir(mkdtempSync(join(tmpdir(), 'flotilla-rundir-')));
    for (let step = 0; step < 10; step++) {
      dir.appendMetrics({ kind: 'step', step, loss: 1 / (step + 1) });
      // An epoch of 4 steps ends after steps 3 and 7 (its record carries the steps done).
      if (step % 4 === 3) dir.appendMetrics({ kind: 'epoch', epoch: (step + 1) / 4, step: step + 1 });
    }
    appendFileSync(join(dir.path, 'metrics.jsonl'), '{"kind":"step","step":10,"lo'); // the crash
    // The newest checkpoint is epoch 2's: 8 steps done. Steps 8 and 9 will be redone.
    expect(dir.truncateMetricsAt(8)).toBe(3);
    const kept = records(dir);
    expect(kept.filter((r) => r.kind === 'step').map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(kept.filter((r) => r.kind === 'epoch').map((r) => r.step)).toEqual([4, 8]);
    // The resumed run appends after them: every step once.
    dir.appendMetrics({ kind: 'step', step: 8, loss: 0.1 });
    expect(records(dir).filter((r) => r.kind === 'step').map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('leaves a folder without metrics alone', () => {
    const dir = new RunDir(mkdtempSync(join(tmpdir(), 'flotilla-rundir-')));
    expect(dir.truncateMetricsAt(5)).toBe(0);
  });
});

describe('RunDir.stepsIn', () => {
  it('reads the step records of a run folder in order, without the epochs', () => {
    const dir = new RunDir(mkdtempSync(join(tmpdir(), 'flotilla-rundir-')));
    dir.appendMetrics({ kind: 'step', step: 0, step_ms: 30 });
    dir.appendMetrics({ kind: 'step', step: 1, step_ms: 25 });
    dir.appendMetrics({ kind: 'epoch', epoch: 1, step: 2 });
    dir.appendMetrics({ kind: 'step', step: 2, step_ms: 27 });
    expect(RunDir.stepsIn(dir.path)).toEqual([{ kind: 'step', step: 0, step_ms: 30 }, { kind: 'step', step: 1, step_ms: 25 }, { kind: 'step', step: 2, step_ms: 27 }]);
  });
});

describe('RunDir.forNewRun', () => {
  it('takes a new or empty folder, and refuses one that holds a run without touching it', () => {
    const root = mkdtempSync(join(tmpdir(), 'flotilla-rundir-'));
    expect(RunDir.forNewRun(join(root, 'new')).path).toBe(join(root, 'new'));
    expect(RunDir.forNewRun(join(root, 'new')).path).toBe(join(root, 'new')); // created, still empty
    const used = new RunDir(join(root, 'used'));
    used.appendMetrics({ kind: 'step', step: 0, loss: 1 });
    expect(() => RunDir.forNewRun(used.path)).toThrow(`run folder ${used.path} already holds a run (metrics.jsonl); choose another --out`);
    used.writeJson('config.json', { seed: 1 });
    expect(() => RunDir.forNewRun(used.path)).toThrow('(config.json, metrics.jsonl)');
    expect(records(used)).toEqual([{ kind: 'step', step: 0, loss: 1 }]);
  });
});

describe('RunDir.timelinesIn', () => {
  it('lists the timelines in recording order (resumes by step, numerically), reads only, and finds none in a folder without', () => {
    const path = mkdtempSync(join(tmpdir(), 'flotilla-rundir-'));
    expect(RunDir.timelinesIn(path)).toEqual([]);
    for (const name of ['timeline-from-step-100.json', 'timeline-from-step-20.json', 'timeline.json', 'timeline.svg', 'timeline-from-step-x.json']) writeFileSync(join(path, name), '[');
    const dir = new RunDir(path);
    expect(RunDir.timelinesIn(path)).toEqual([dir.timelinePath(0), dir.timelinePath(20), dir.timelinePath(100)]);
    const bare = mkdtempSync(join(tmpdir(), 'flotilla-rundir-'));
    writeFileSync(join(bare, 'timeline-from-step-7.json'), '[');
    expect(RunDir.timelinesIn(bare)).toEqual([join(bare, 'timeline-from-step-7.json')]);
    expect(readdirSync(bare)).toEqual(['timeline-from-step-7.json']); // no checkpoints/ made
  });
});
