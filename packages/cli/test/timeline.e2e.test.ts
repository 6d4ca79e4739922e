import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine, runFlotilla } from '../src/run-flotilla.js';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-timeline-'));
const run = join(dir, 'run');

interface Span { name: string; ph: string; pid: number; tid: number; ts: number; dur: number; args?: Record<string, unknown> }

describe('flotilla timeline (real processes)', () => {
  let trace: Span[];

  beforeAll(() => {
    const r = runFlotilla(['train', '--workers', '2', '--threads', '1', '--steps', '6', '--batch', '60', '--train-limit', '1200',
      '--test-limit', '200', '--out', run, '--timeline'], { timeoutMs: 110_000 });
    expect(r.stderr + r.stdout).not.toMatch(/flotilla: /);
    expect(r.status).toBe(0);
    trace = JSON.parse(readFileSync(join(run, 'timeline.json'), 'utf8')) as Span[];
  }, 120_000);

  it('draws the warm steps after the middle of the run and sums up where their time went', () => {
    const r = runFlotilla(['timeline', run, '--json'], { timeoutMs: 60_000 });
    expect(r.stderr).toMatch(/^wrote .*timeline\.svg: steps 2-4 of 0-5/m);
    expect(r.status).toBe(0);
    const report = lastJsonLine(r.stdout) as Record<string, any>;
    expect(report.steps).toEqual([2, 3, 4]);
    expect(report.from_step).toBe(2);
    expect(report.available).toBe('0-5');
    expect(report.svg).toBe(join(run, 'timeline.svg'));

    // The SVG: a row per process and thread, a bar group per chosen step.
    const svg = readFileSync(report.svg, 'utf8');
    expect(svg).toMatch(/^<svg/);
    const labels = [...svg.matchAll(/<text class="row"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['coordinator · main', 'worker 0 · main', 'worker 0 · compute 0', 'worker 1 · main', 'worker 1 · compute 0']);
    expect([...svg.matchAll(/<g class="step" data-step="(\d+)">/g)].map((m) => Number(m[1]))).toEqual([2, 3, 4]);
    expect(svg.match(/<rect class="bar compute"/g)).toHaveLength(2 * 3); // a forward + backward per worker thread per step

    // The summary agrees with the trace: per compute thread and step, compute + SyncBN wait is the forward + backward.
    const rows = report.rows as Array<Record<string, any>>;
    expect(rows.map((row) => row.label)).toEqual(labels);
    for (const row of rows.filter((x) => x.kind === 'compute')) {
      const fb = report.steps.map((step: number) => trace
        .filter((e) => e.ph === 'X' && e.pid === row.pid && e.tid === row.tid && e.name === 'forward + backward' && e.args?.step === step)
        .reduce((s, e) => s + e.dur / 1000, 0));
      expect(fb.every((v: number) => v > 0)).toBe(true);
      report.steps.forEach((_: number, i: number) => {
        expect(row.compute_ms[i] + row.syncbn_wait_ms[i]).toBeCloseTo(fb[i], 2);
        expect(row.syncbn_wait_ms[i]).toBeGreaterThanOrEqual(0);
      });
    }
    // Main threads are busy for part of each step, never more than all of their own part of it
    // (a worker's: its step span and the decoding before it; compared on its own clock, since
    // a preempted worker can end its step a little after the coordinator ends its own).
    const span = (pid: number, name: string, step?: number) => trace.find((e) => e.ph === 'X' && e.pid === pid && e.tid === 0 && e.name === name && (step === undefined || e.args?.step === step));
    const stepMs = report.steps.map((step: number) => span(0, `step ${step}`)!.dur / 1000);
    report.step_ms.forEach((v: number, i: number) => expect(v).toBeCloseTo(stepMs[i], 2));
    for (const row of rows.filter((x) => x.kind === 'main')) {
      row.busy_ms.forEach((v: number, i: number) => {
        const step = report.steps[i];
        const own = row.pid === 0 ? stepMs[i] : (span(row.pid, `step ${step}`)!.dur + (span(row.pid, 'decode params', step)?.dur ?? 0)) / 1000;
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThanOrEqual(own + 0.01);
      });
    }
  });

  it('takes the file itself, --from-step, --steps and --out, and reads the trace of a run that died', () => {
    const text = readFileSync(join(run, 'timeline.json'), 'utf8');
    const cut = join(dir, 'died.json');
    writeFileSync(cut, `${text.trimEnd().replace(/\]$/, '').trimEnd()},\n`); // no closing bracket, a trailing comma
    const out = join(dir, 'one.svg');
    const r = runFlotilla(['timeline', cut, '--from-step', '1', '--steps', '1', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${out}: step 1 of 0-5`));
    expect(r.stdout).toMatch(/worker 1 · compute 0 +compute [\d.]+ ms \+ SyncBN wait [\d.]+ ms per step/);
    expect(r.stdout).toMatch(/coordinator · main +busy [\d.]+ ms per step/);
    expect(readFileSync(out, 'utf8').match(/<g class="step"/g)).toHaveLength(1);
  });

  it('says clearly what is wrong', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    let r = runFlotilla(['timeline', empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`flotilla: no timeline.json in ${empty}: record one with flotilla train --timeline`);

    const notTrace = join(dir, 'config.json');
    writeFileSync(notTrace, '{"steps": 3}');
    r = runFlotilla(['timeline', notTrace]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/flotilla: .*config\.json: not a timeline/);

    r = runFlotilla(['timeline', run, '--from-step', '9']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/flotilla: --from-step 9 is past the last step of .*timeline\.json: it has steps 0-5/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    r = runFlotilla(['timeline', join(dir, 'nowhere')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/flotilla: no such run folder or file/);
  });
});
