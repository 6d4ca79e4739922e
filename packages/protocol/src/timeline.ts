/**
 * A run's timeline (`--timeline`): spans of where each process and thread spent a step,
 * as Horovod's timeline and PyTorch's profiler record them, written by the coordinator as a
 * Chrome trace (trace.ts in the coordinator). Workers send theirs in `trace` messages, so
 * the recorder lives with the message format.
 */
import type { TraceEvent } from './messages.js';

// The protocol builds without Node's or the DOM's types; both have this clock.
declare const performance: { now(): number; readonly timeOrigin: number };

/**
 * Microseconds since the Unix epoch at a `performance.now()` reading. Every thread has its
 * own time origin but the same epoch clock, so spans from the threads and processes of one
 * machine line up; across machines they are as close as the machines' clocks.
 */
export function epochMicros(now: number): number {
  return (performance.timeOrigin + now) * 1000;
}

/** Collects spans when enabled; when not, `span` returns at once and nothing is kept. */
export class Timeline {
  private events: TraceEvent[] = [];

  /** Set per step where a run records only some of them. */
  constructor(public enabled: boolean) {}

  /** Records `name` on thread `tid` from the `performance.now()` reading `start` until `end` (default: now). */
  span(name: string, start: number, tid = 0, args?: Record<string, string | number>, end = performance.now()): void {
    if (!this.enabled) return;
    this.events.push({ name, tid, ts: epochMicros(start), dur: 1000 * (end - start), ...(args ? { args } : {}) });
  }

  /** Adds spans recorded elsewhere (a compute thread's). */
  add(events: readonly TraceEvent[]): void {
    if (this.enabled) this.events.push(...events);
  }

  /** The spans so far, oldest first; the timeline starts empty again. */
  drain(): TraceEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }
}
