import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceFile } from '../src/trace-file.js';

describe('TraceFile', () => {
  it('writes a JSON array of metadata and complete events, readable before and after close', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'trace-')), 'timeline.json');
    const trace = new TraceFile(path);
    trace.name(2, 'worker 1 (h, pid 9)', { 0: 'main', 1: 'compute 0' });
    trace.spans(2, [{ name: 'forward + backward', tid: 1, ts: 1e15, dur: 12.5, args: { step: 4 } }]);
    trace.spans(0, []);
    trace.spans(0, [{ name: 'optimizer', tid: 0, ts: 1e15 + 20, dur: 3 }]);
    // A run that dies leaves no closing bracket: what is there is whole records.
    const open = JSON.parse(`${readFileSync(path, 'utf8')}]`) as object[];
    trace.close();
    const closed = JSON.parse(readFileSync(path, 'utf8')) as object[];
    expect(closed).toEqual(open);
    expect(closed).toEqual([
      { name: 'process_name', ph: 'M', pid: 2, tid: 0, args: { name: 'worker 1 (h, pid 9)' } },
      { name: 'process_sort_index', ph: 'M', pid: 2, tid: 0, args: { sort_index: 2 } },
      { name: 'thread_name', ph: 'M', pid: 2, tid: 0, args: { name: 'main' } },
      { name: 'thread_name', ph: 'M', pid: 2, tid: 1, args: { name: 'compute 0' } },
      { name: 'forward + backward', tid: 1, ts: 1e15, dur: 12.5, args: { step: 4 }, ph: 'X', pid: 2 },
      { name: 'optimizer', tid: 0, ts: 1e15 + 20, dur: 3, ph: 'X', pid: 0 },
    ]);
    trace.spans(0, [{ name: 'late', tid: 0, ts: 1, dur: 1 }]); // after close: dropped, file intact
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(closed);
  });
});
