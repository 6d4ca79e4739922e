/**
 * A run's timeline.json read back: the records, the rows (process, thread), the spans of
 * chosen coordinator steps, and where each row's time went in them.
 */
/**
 * One record of a run's timeline.json (a Chrome trace, JSON array form): metadata ("ph": "M",
 * process and thread names) or a complete span ("ph": "X", microseconds since the epoch).
 */
export interface TraceRecord {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
}

/**
 * Parses a timeline.json. A run that died leaves the file without its closing bracket (and
 * with a trailing comma, or half a last line): that is accepted, as the trace viewers do.
 */
export function parseTimeline(text: string): TraceRecord[] {
  const closed = (t: string): string => `${t.trimEnd().replace(/,$/, '')}\n]`;
  const attempts = [
    () => text,
    () => closed(text),
    () => closed(text.trimEnd().slice(0, Math.max(0, text.trimEnd().lastIndexOf('\n')))), // a half-written last line
  ];
  let parsed: unknown, ok = false;
  for (const attempt of attempts) {
    try {
      parsed = JSON.parse(attempt());
      ok = true;
      break;
    } catch {
      // the next attempt
    }
  }
  const isRecord = (r: unknown): r is TraceRecord => {
    if (typeof r !== 'object' || r === null) return false;
    const e = r as Record<string, unknown>;
    return typeof e.name === 'string' && typeof e.ph === 'string' && typeof e.pid === 'number' && typeof e.tid === 'number' &&
      (e.ph !== 'X' || (typeof e.ts === 'number' && typeof e.dur === 'number'));
  };
  if (!ok || !Array.isArray(parsed) || !parsed.every(isRecord)) {
    throw new Error('not a timeline: expected a Chrome trace, a JSON array of trace events as flotilla train --timeline writes');
  }
  return parsed;
}

/** A row of the chart: one thread of one process. */
export interface TimelineRow {
  pid: number;
  tid: number;
  /** "coordinator · main", "worker 0 · compute 1". */
  label: string;
}

/** A span of the chosen steps, in milliseconds from the start of the first chosen coordinator step. */
export interface TimelineSpan {
  name: string;
  pid: number;
  tid: number;
  start: number;
  end: number;
  args?: Record<string, unknown>;
  /** The coordinator step it belongs to. */
  step: number;
  /** How many other spans of its row it sits inside (a SyncBN wait in a forward + backward is 1). */
  depth: number;
}

export interface TimelineSelection {
  rows: TimelineRow[];
  /** The chosen coordinator steps with their windows (ms from the first one's start). */
  steps: Array<{ step: number; start: number; end: number }>;
  spans: TimelineSpan[];
}

const STEP = /^step (\d+)$/;
export const stepOf = (name: string): number | undefined => {
  const m = STEP.exec(name);
  return m ? Number(m[1]) : undefined;
};
const spansOf = (records: readonly TraceRecord[]): Array<Required<Pick<TraceRecord, 'name' | 'pid' | 'tid' | 'ts' | 'dur'>> & TraceRecord> =>
  records.filter((r) => r.ph === 'X') as Array<Required<Pick<TraceRecord, 'name' | 'pid' | 'tid' | 'ts' | 'dur'>> & TraceRecord>;

/** The coordinator's step numbers in the trace, ascending. */
export function coordinatorSteps(records: readonly TraceRecord[]): number[] {
  const steps = new Set<number>();
  for (const r of spansOf(records)) if (r.pid === 0 && r.tid === 0 && stepOf(r.name) !== undefined) steps.add(stepOf(r.name)!);
  return [...steps].sort((a, b) => a - b);
}

/** "0-29", or "0-9, 20-29" when there are gaps. */
export function stepRanges(steps: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j] + 1) j++;
    out.push(i === j ? String(steps[i]) : `${steps[i]}-${steps[j]}`);
    i = j;
  }
  return out.join(', ');
}

/** "step 3", or "steps 3-5" for a range. */
export function stepsLabel(first: number, last: number): string {
  return `step${first === last ? ` ${first}` : `s ${first}-${last}`}`;
}

/** Rows from the metadata and the spans, ordered by process then thread. */
function rowsOf(records: readonly TraceRecord[]): TimelineRow[] {
  const processes = new Map<number, string>(), threads = new Map<string, string>(), seen = new Map<string, [number, number]>();
  for (const r of records) {
    if (r.ph === 'M' && r.name === 'process_name' && typeof r.args?.name === 'string') {
      // "worker 0 (vm, pid 13514)" → "worker 0": the detail stays out of the row label.
      processes.set(r.pid, r.args.name.replace(/\s*\(.*\)$/, ''));
    }
    if (r.ph === 'M' && r.name === 'thread_name' && typeof r.args?.name === 'string') threads.set(`${r.pid}/${r.tid}`, r.args.name);
    if (r.ph === 'X' || (r.ph === 'M' && r.name === 'thread_name')) seen.set(`${r.pid}/${r.tid}`, [r.pid, r.tid]);
  }
  return [...seen.values()]
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([pid, tid]) => {
      const process = processes.get(pid) ?? (pid === 0 ? 'coordinator' : `worker ${pid - 1}`);
      const thread = threads.get(`${pid}/${tid}`) ?? (tid === 0 ? 'main' : `compute ${tid - 1}`);
      return { pid, tid, label: `${process} · ${thread}` };
    });
}

/**
 * The spans of coordinator steps fromStep..fromStep+steps-1 (those present). A span belongs
 * to a step by its own number (`step N`, args.step), else by the numbered span of its thread
 * it sits in (a SyncBN wait in its forward + backward, a send in the worker's `step N`),
 * else by where its middle falls among the coordinator's steps.
 */
export function selectSteps(records: readonly TraceRecord[], fromStep: number, steps: number): TimelineSelection {
  const all = spansOf(records);
  const chosen = all
    .filter((r) => r.pid === 0 && r.tid === 0 && stepOf(r.name) !== undefined && stepOf(r.name)! >= fromStep && stepOf(r.name)! < fromStep + steps)
    .sort((a, b) => a.ts - b.ts);
  if (chosen.length === 0) {
    throw new Error(`no coordinator step ${fromStep}${steps > 1 ? `-${fromStep + steps - 1}` : ''} in the timeline (steps ${stepRanges(coordinatorSteps(records)) || 'none'})`);
  }
  const origin = chosen[0].ts;
  const windowEnd = Math.max(...chosen.map((c) => c.ts + c.dur));
  const inRange = (n: number | undefined): boolean => n !== undefined && n >= fromStep && n < fromStep + steps;
  const tagOf = (r: TraceRecord): number | undefined => stepOf(r.name) ?? (typeof r.args?.step === 'number' ? r.args.step : undefined);
  // Only spans near the window can belong to it (its length again either side, for skewed clocks).
  const pad = windowEnd - origin;
  const near = all.filter((r) => inRange(tagOf(r)) || (r.ts < windowEnd + pad && r.ts + r.dur > origin - pad));
  const byRow = new Map<string, typeof near>();
  for (const r of near) {
    const key = `${r.pid}/${r.tid}`;
    if (!byRow.has(key)) byRow.set(key, []);
    byRow.get(key)!.push(r);
  }
  const EPS = 1; // µs: span ends are float microseconds from two clock readings
  const picked: TimelineSpan[] = [];
  for (const rowSpans of byRow.values()) {
    const tagged = rowSpans.filter((r) => tagOf(r) !== undefined);
    const mine: TimelineSpan[] = [];
    for (const r of rowSpans) {
      let step = tagOf(r);
      if (step === undefined) {
        // The innermost numbered span around it, else the coordinator step around its middle.
        const around = tagged
          .filter((p) => p.ts <= r.ts + EPS && p.ts + p.dur >= r.ts + r.dur - EPS)
          .sort((a, b) => a.dur - b.dur)[0];
        const mid = r.ts + r.dur / 2;
        step = around ? tagOf(around) : stepOf(chosen.find((c) => c.ts <= mid && mid <= c.ts + c.dur)?.name ?? '');
      }
      if (!inRange(step)) continue;
      mine.push({ name: r.name, pid: r.pid, tid: r.tid, start: (r.ts - origin) / 1000, end: (r.ts + r.dur - origin) / 1000, ...(r.args ? { args: r.args } : {}), step: step!, depth: 0 });
    }
    // Depth among the bars (the `step N` spans are brackets behind the row, not bars).
    mine.sort((a, b) => a.start - b.start || b.end - a.end);
    const open: number[] = [];
    for (const s of mine) {
      if (stepOf(s.name) !== undefined) continue;
      while (open.length > 0 && open[open.length - 1] <= s.start + EPS / 1000) open.pop();
      s.depth = open.length;
      open.push(s.end);
    }
    picked.push(...mine);
  }
  return {
    rows: rowsOf(records),
    steps: chosen.map((c) => ({ step: stepOf(c.name)!, start: (c.ts - origin) / 1000, end: (c.ts + c.dur - origin) / 1000 })),
    spans: picked,
  };
}

/** Where one row's time went in each chosen step, in ms. */
export interface RowSummary {
  pid: number;
  tid: number;
  label: string;
  /** compute: a thread with forward + backward spans; main: the rest. */
  kind: 'compute' | 'main';
  /** compute rows: forward + backward less the SyncBN waits in it, per step. */
  compute_ms?: number[];
  /** compute rows: SyncBN wait, per step. */
  syncbn_wait_ms?: number[];
  /** main rows: time inside any span other than `step N`, per step (nested spans counted once). */
  busy_ms?: number[];
}

export interface TimelineSummary {
  steps: number[];
  /** Each chosen coordinator step's length. */
  step_ms: number[];
  rows: RowSummary[];
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Per row and chosen step: compute against SyncBN wait on compute threads, busy time elsewhere. */
export function timelineSummary(sel: TimelineSelection): TimelineSummary {
  const steps = sel.steps.map((s) => s.step);
  const rows = sel.rows.map((r): RowSummary => {
    const mine = sel.spans.filter((s) => s.pid === r.pid && s.tid === r.tid);
    const perStep = (f: (spans: TimelineSpan[]) => number): number[] => steps.map((n) => round3(f(mine.filter((s) => s.step === n))));
    const total = (spans: TimelineSpan[], name: string): number => spans.filter((s) => s.name === name).reduce((a, s) => a + s.end - s.start, 0);
    if (mine.some((s) => s.name === 'forward + backward') || / · compute/.test(r.label)) {
      return {
        pid: r.pid, tid: r.tid, label: r.label, kind: 'compute',
        compute_ms: perStep((s) => total(s, 'forward + backward') - total(s, 'SyncBN wait')),
        syncbn_wait_ms: perStep((s) => total(s, 'SyncBN wait')),
      };
    }
    const busy = (spans: TimelineSpan[]): number => {
      let sum = 0, until = -Infinity;
      for (const s of spans.filter((q) => stepOf(q.name) === undefined).sort((a, b) => a.start - b.start)) {
        if (s.end <= until) continue;
        sum += s.end - Math.max(s.start, until);
        until = s.end;
      }
      return sum;
    };
    return { pid: r.pid, tid: r.tid, label: r.label, kind: 'main', busy_ms: perStep(busy) };
  });
  return { steps, step_ms: sel.steps.map((s) => round3(s.end - s.start)), rows };
}
