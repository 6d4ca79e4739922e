import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flotilla } from './cli.js';

const base = mkdtempSync(join(tmpdir(), 'flotilla-timeline-'));
const DATA = ['--batch', '60', '--train-limit', '1200', '--test-limit', '200', '--seed', '3', '--steps', '3'];

interface TraceRecord {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur: number;
  args?: Record<string, string | number>;
}

/** Whether span `inner` lies within span `outer`, give or take `slackUs` of clock rounding. */
function within(inner: TraceRecord, outer: TraceRecord, slackUs = 200): boolean {
  return inner.ts >= outer.ts - slackUs && inner.ts + inner.dur <= outer.ts + outer.dur + slackUs;
}

describe('flotilla train --timeline', () => {
  it('writes a Chrome trace of every process and thread, each step nested as it ran', () => {
    const out = join(base, 'run');
    const r = flotilla(['train', '--workers', '2', '--threads', '2', ...DATA, '--out', out, '--timeline'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const records = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TraceRecord[];
    const names = Object.fromEntries(records.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]));
    expect(names[0]).toBe('coordinator');
    expect(names[1]).toMatch(/^worker 0 \(.+, pid \d+\)$/);
    expect(names[2]).toMatch(/^worker 1 \(.+, pid \d+\)$/);
    const threadNames = records.filter((e) => e.name === 'thread_name' && e.pid === 1).map((e) => [e.tid, e.args!.name]);
    expect(threadNames).toEqual([[0, 'main'], [1, 'compute 0'], [2, 'compute 1']]);

    const spans = records.filter((e) => e.ph === 'X');
    for (const e of spans) expect(e.dur).toBeGreaterThanOrEqual(0);
    const find = (pid: number, tid: number, name: string) => spans.filter((e) => e.pid === pid && e.tid === tid && e.name === name);
    for (const name of ['step 0', 'step 1', 'step 2']) expect(find(0, 0, name)).toHaveLength(1);
    expect(find(0, 0, 'optimizer')).toHaveLength(3);
    expect(find(0, 0, 'encode params')).toHaveLength(3);
    for (let step = 0; step < 3; step++) {
      const coordinatorStep = find(0, 0, `step ${step}`)[0];
      for (const pid of [1, 2]) {
        // A worker's step, from publishing the parameters to sending the gradient, starts
        // inside the coordinator's step on the same clock, and ends about when it does (a
        // worker preempted right after its last write ends its span a little late).
        const workerStep = find(pid, 0, `step ${step}`);
        expect(workerStep).toHaveLength(1);
        expect(workerStep[0].ts).toBeGreaterThanOrEqual(coordinatorStep.ts);
        expect(workerStep[0].ts).toBeLessThanOrEqual(coordinatorStep.ts + coordinatorStep.dur);
        expect(workerStep[0].ts + workerStep[0].dur).toBeLessThanOrEqual(coordinatorStep.ts + coordinatorStep.dur + 50_000);
        for (const tid of [1, 2]) {
          const compute = find(pid, tid, 'forward + backward').filter((e) => e.args!.step === step);
          expect(compute).toHaveLength(1);
          expect(within(compute[0], workerStep[0])).toBe(true);
          // The default model has 2 BatchNorm layers: SyncBN waits forward and backward at each.
          const waits = find(pid, tid, 'SyncBN wait').filter((e) => within(e, compute[0], 0));
          expect(waits.map((e) => `${e.args!.phase} ${e.args!.layer}`)).toEqual(['forward 2', 'forward 6', 'backward 6', 'backward 2']);
        }
        // Every SyncBN round goes through the main thread once per layer and phase.
        expect(find(pid, 0, 'SyncBN exchange').filter((e) => within(e, workerStep[0]))).toHaveLength(4);
      }
    }
  }, 150_000);

  it('records only the steps of a window, on the coordinator and the workers alike', () => {
    const out = join(base, 'window');
    const r = flotilla(['train', '--workers', '2', '--threads', '1', ...DATA, '--out', out, '--timeline', '1-2'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const records = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as TraceRecord[];
    const spans = records.filter((e) => e.ph === 'X');
    const steps = (pid: number) => spans.filter((e) => e.pid === pid && /^step \d+$/.test(e.name)).map((e) => e.name);
    for (const pid of [0, 1, 2]) expect(steps(pid)).toEqual(['step 1', 'step 2']);
    const computed = spans.filter((e) => e.name === 'forward + backward').map((e) => e.args!.step);
    expect(computed.sort()).toEqual([1, 1, 2, 2]);
    const bad = flotilla(['train', '--workers', '1', ...DATA, '--out', join(base, 'bad-window'), '--timeline', '9-3']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Invalid --timeline: 9-3 \(expected FROM-TO steps/);
  }, 150_000);

  it('is not written unless asked for, and refuses --local', () => {
    const out = join(base, 'plain');
    expect(flotilla(['train', '--workers', '1', ...DATA, '--out', out]).status).toBe(0);
    expect(existsSync(join(out, 'timeline.json'))).toBe(false);
    const local = flotilla(['train', '--local', ...DATA, '--out', join(base, 'local'), '--timeline']);
    expect(local.status).toBe(1);
    expect(local.stderr).toMatch(/--timeline records a distributed run; it does not apply to --local/);
  }, 150_000);
});
