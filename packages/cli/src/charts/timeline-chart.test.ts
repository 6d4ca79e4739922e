import { describe, expect, it } from 'vitest';
import { timelineChartSvg } from './timeline-chart.js';
import { parseTimeline, selectSteps, stepRanges, timelineSummary, type TraceRecord } from './timeline-data.js';

const T0 = 1_700_000_000_000_000; // epoch µs
const ms = (v: number): number => T0 + v * 1000;
const span = (pid: number, tid: number, name: string, from: number, to: number, args?: Record<string, unknown>): TraceRecord =>
  ({ name, tid, ts: ms(from), dur: (to - from) * 1000, ...(args ? { args } : {}), ph: 'X', pid });
const meta = (name: string, pid: number, tid: number, value: string): TraceRecord => ({ name, ph: 'M', pid, tid, args: { name: value } });

/** Three 10 ms coordinator steps; one worker with a main thread and two compute threads. */
const records: TraceRecord[] = [
  // Metadata out of order: rows still come by pid, then tid.
  meta('thread_name', 1, 2, 'compute <1> & "b"'),
  meta('process_name', 1, 0, 'worker 0 (vm, pid 42)'),
  meta('thread_name', 1, 1, 'compute 0'),
  meta('thread_name', 1, 0, 'main'),
  meta('process_name', 0, 0, 'coordinator'),
  meta('thread_name', 0, 0, 'main'),
  // Step 0.
  span(1, 1, 'forward + backward', 2, 6, { step: 0, rows: 4 }),
  span(0, 0, 'receive gradient', 7, 8, { worker: 0 }),
  span(0, 0, 'step 0', 0, 10, { samples: 8 }),
  // Step 1.
  span(0, 0, 'encode params', 10, 10.5),
  span(1, 0, 'decode params', 11, 11.5, { step: 1 }),
  span(1, 0, 'step 1', 11.5, 17, { attempt: 0, rows: 8 }),
  span(1, 0, 'SyncBN exchange', 13, 14, { layer: 2, phase: 'forward' }),
  span(1, 1, 'forward + backward', 12, 16, { step: 1, rows: 4 }),
  span(1, 1, 'SyncBN wait', 13, 14.5, { layer: 2, phase: 'forward' }),
  span(1, 2, 'forward + backward', 12.5, 15, { step: 1, rows: 4 }),
  span(1, 2, 'SyncBN wait', 13.2, 14, { layer: 2, phase: 'forward' }),
  span(1, 0, 'send gradient', 16, 17),
  span(0, 0, 'weird <span> & "co"', 17.2, 17.4),
  span(0, 0, 'receive gradient', 17, 17.5, { worker: 0 }),
  span(0, 0, 'optimizer', 18, 19.5, { step: 1 }),
  span(0, 0, 'step 1', 10, 20, { samples: 8 }),
  // Step 2.
  span(1, 1, 'forward + backward', 22, 26, { step: 2, rows: 4 }),
  span(0, 0, 'step 2', 20, 30, { samples: 8 }),
];

/** Each `<rect class="bar …">` with its position and its tooltip text. */
const bars = (svg: string): Array<{ kind: string; x: number; y: number; width: number; height: number; title: string; index: number }> =>
  [...svg.matchAll(/<rect class="bar (\w+)" x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)]
    .map((m) => ({ kind: m[1], x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), height: Number(m[5]), title: m[6], index: m.index! }));

/** The axis mapping the chart's tick labels imply: ms → x. */
function axis(svg: string): (v: number) => number {
  const ticks = [...svg.matchAll(/<text class="tick" x="([\d.]+)"[^>]*>([^<]+)<\/text>/g)].map((m) => [Number(m[2].replace(/,/g, '')), Number(m[1])]);
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  const [[v0, x0], [v1, x1]] = [ticks[0], ticks[ticks.length - 1]];
  return (v) => x0 + ((v - v0) / (v1 - v0)) * (x1 - x0);
}

describe('timelineChartSvg', () => {
  const svg = timelineChartSvg(selectSteps(records, 1, 1));

  it('puts each bar where the axis says: ms from the start of the chosen coordinator step', () => {
    const x = axis(svg);
    const fb = bars(svg).filter((b) => b.title.startsWith('forward + backward'));
    expect(fb).toHaveLength(2);
    // Worker 0 compute 0: 12-16 ms since the epoch origin = 2-6 ms into step 1.
    expect(fb[0].x).toBeCloseTo(x(2), 1);
    expect(fb[0].x + fb[0].width).toBeCloseTo(x(6), 1);
    const optimizer = bars(svg).find((b) => b.title.startsWith('optimizer'))!;
    expect(optimizer.kind).toBe('optimizer');
    expect(optimizer.x).toBeCloseTo(x(8), 1);
    expect(optimizer.width).toBeCloseTo(x(9.5) - x(8), 1);
    // The step boundaries are at 0 and 10 ms.
    const bounds = [...svg.matchAll(/<line class="boundary" x1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(bounds.map((b) => Math.round(b))).toEqual([Math.round(x(0)), Math.round(x(10))]);
  });

  it('has a row per process and thread, by pid then tid, labelled and escaped', () => {
    const labels = [...svg.matchAll(/<text class="row"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['coordinator · main', 'worker 0 · main', 'worker 0 · compute 0', 'worker 0 · compute &lt;1&gt; &amp; &quot;b&quot;']);
    // Bars sit in their row: compute 0 below worker main, compute 1 below that.
    const y = (title: string): number => bars(svg).find((b) => b.title.startsWith(title))!.y;
    expect(y('encode params')).toBeLessThan(y('decode params'));
    const fb = bars(svg).filter((b) => b.title.startsWith('forward + backward'));
    expect(fb[0].y).toBeGreaterThan(y('decode params'));
    expect(fb[1].y).toBeGreaterThan(fb[0].y);
  });

  it('leaves out the spans of other steps', () => {
    const titles = bars(svg).map((b) => b.title);
    expect(titles.filter((t) => t.startsWith('receive gradient'))).toEqual(['receive gradient: 0.50 ms (worker 0)']);
    expect(titles.some((t) => /step (0|2)\b/.test(t))).toBe(false);
    expect(titles).toHaveLength(11);
    expect(svg.match(/<g class="step"/g)).toHaveLength(1);
    // The coordinator's and the worker's `step 1` are brackets, not bars.
    expect(svg.match(/<rect class="bracket"/g)).toHaveLength(2);
  });

  it('draws nested spans after, and narrower than, their parents', () => {
    const all = bars(svg);
    for (const tid of [0, 1]) {
      const parent = all.filter((b) => b.title.startsWith('forward + backward'))[tid];
      const child = all.filter((b) => b.title.startsWith('SyncBN wait'))[tid];
      expect(child.index).toBeGreaterThan(parent.index);
      expect(child.height).toBeLessThan(parent.height);
      expect(child.x).toBeGreaterThan(parent.x);
      expect(child.x + child.width).toBeLessThan(parent.x + parent.width);
    }
  });

  it('escapes span names', () => {
    expect(svg).toContain('weird &lt;span&gt; &amp; &quot;co&quot;');
    expect(svg).not.toContain('<span>');
    const bad = timelineChartSvg(selectSteps(records, 1, 1), { title: 'a <b> & c' });
    expect(bad).toContain('>a &lt;b&gt; &amp; c</text>');
  });

  it('groups spans by step and colors them by kind', () => {
    const three = timelineChartSvg(selectSteps(records, 0, 3));
    expect([...three.matchAll(/<g class="step" data-step="(\d+)">/g)].map((m) => Number(m[1]))).toEqual([0, 1, 2]);
    expect(bars(three).filter((b) => b.title.startsWith('forward + backward')).map((b) => b.kind)).toEqual(['compute', 'compute', 'compute', 'compute']);
    expect(bars(three).find((b) => b.title.startsWith('SyncBN exchange'))!.kind).toBe('syncbn');
    expect(bars(three).find((b) => b.title.startsWith('send gradient'))!.kind).toBe('gradient');
    expect(bars(three).find((b) => b.title.startsWith('decode params'))!.kind).toBe('params');
  });

  it('names the steps there are when asked for one that is not', () => {
    expect(() => timelineChartSvg(selectSteps(records, 7, 2))).toThrow(/no coordinator step 7-8 in the timeline \(steps 0-2\)/);
  });
});

describe('selectSteps and timelineSummary', () => {
  it('assigns unnumbered spans by the numbered span around them, then by the coordinator step', () => {
    const sel = selectSteps(records, 1, 1);
    const stepOf = (name: string, pid = 1): number | undefined => sel.spans.find((s) => s.name === name && s.pid === pid)?.step;
    expect(stepOf('SyncBN wait')).toBe(1); // inside forward + backward (step 1)
    expect(stepOf('send gradient')).toBe(1); // inside the worker's step 1
    expect(stepOf('encode params', 0)).toBe(1); // inside the coordinator's step 1
    expect(sel.spans.find((s) => s.name === 'SyncBN wait')!.depth).toBe(1);
    expect(sel.steps).toEqual([{ step: 1, start: 0, end: 10 }]);
  });

  it('splits compute threads into compute and SyncBN wait, main threads into busy time', () => {
    const summary = timelineSummary(selectSteps(records, 1, 1));
    expect(summary.steps).toEqual([1]);
    expect(summary.step_ms).toEqual([10]);
    const row = (label: string) => summary.rows.find((r) => r.label === label)!;
    expect(row('worker 0 · compute 0')).toMatchObject({ kind: 'compute', compute_ms: [2.5], syncbn_wait_ms: [1.5] });
    // Worker main: decode 0.5 + exchange 1 + send 1 (its `step 1` bracket is not work).
    expect(row('worker 0 · main')).toMatchObject({ kind: 'main', busy_ms: [2.5] });
    // Coordinator: encode 0.5, receive 0.5 with the 0.2 inside it counted once, optimizer 1.5.
    expect(row('coordinator · main').busy_ms).toEqual([2.5]);
  });

  it('writes step lists as ranges', () => {
    expect(stepRanges([0, 1, 2, 5, 7, 8])).toBe('0-2, 5, 7-8');
    expect(stepRanges([])).toBe('');
  });
});

describe('parseTimeline', () => {
  const lines = records.map((r) => JSON.stringify(r));

  it('reads a closed trace', () => {
    expect(parseTimeline(`[\n${lines.join(',\n')}\n]\n`)).toEqual(records);
  });

  it('reads the trace of a run that died: no closing bracket, a trailing comma, even half a last line', () => {
    expect(parseTimeline(`[\n${lines.join(',\n')},\n`)).toEqual(records);
    expect(parseTimeline(`[\n${lines.join(',\n')}`)).toEqual(records);
    expect(parseTimeline(`[\n${lines.join(',\n')},\n{"name":"step 3","tid":0,"ts":17`)).toEqual(records);
    // And the chart draws from it.
    expect(timelineChartSvg(selectSteps(parseTimeline(`[\n${lines.join(',\n')},\n`), 1, 1))).toMatch(/^<svg/);
  });

  it('rejects what is not a trace', () => {
    expect(() => parseTimeline('{"step": 1}')).toThrow(/not a timeline/);
    expect(() => parseTimeline('[{"name": "x"}]')).toThrow(/not a timeline/);
    expect(() => parseTimeline('hello')).toThrow(/not a timeline/);
    expect(() => parseTimeline('[{"name":"step 1","ph":"X","pid":0,"tid":0}]')).toThrow(/not a timeline/);
  });
});
