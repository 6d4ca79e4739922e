import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceEvent } from '@flotilla/protocol';

/**
 * A run's timeline as a Chrome trace (the JSON array form of the Trace Event Format): open
 * it in https://ui.perfetto.dev or chrome://tracing. Each process is a row group (the
 * coordinator is process 0, worker k is process k + 1), each of its threads a row, each span
 * a complete event ("ph": "X", microseconds). Spans are appended as steps end, so the file
 * grows with the run; a run that dies leaves it without the closing bracket, which both
 * viewers accept.
 */
export class TraceFile {
  private fd: number | null;
  private first = true;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, '[\n');
  }

  /** Names process `pid` and its threads (tid → name) in the viewer. */
  name(pid: number, process: string, threads: Record<number, string>): void {
    this.write([
      { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: process } },
      { name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } },
      ...Object.entries(threads).map(([tid, name]) => ({ name: 'thread_name', ph: 'M', pid, tid: Number(tid), args: { name } })),
    ]);
  }

  /** Spans of process `pid`. */
  spans(pid: number, events: readonly TraceEvent[]): void {
    this.write(events.map((e) => ({ ...e, ph: 'X', pid })));
  }

  close(): void {
    if (this.fd === null) return;
    writeSync(this.fd, '\n]\n');
    closeSync(this.fd);
    this.fd = null;
  }

  private write(records: object[]): void {
    if (this.fd === null || records.length === 0) return;
    const text = records.map((r) => JSON.stringify(r)).join(',\n');
    writeSync(this.fd, this.first ? text : `,\n${text}`);
    this.first = false;
  }
}
