import { describe, expect, it } from 'vitest';
import { benchAllReduce } from './allreduce.js';

describe('bench allreduce', () => {
  it('runs real client processes on loopback, checks every sum and reports times beside the socket bound', async () => {
    const lines: string[] = [];
    const runs = await benchAllReduce([1000, 4099], [2], { rounds: 3, log: (l) => lines.push(l) });
    expect(runs.map((r) => [r.floats, r.workers, r.rounds])).toEqual([[1000, 2, 3], [4099, 2, 3]]);
    for (const r of runs) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.socket_bound_ms).toBeGreaterThan(0);
      // Bytes out and back for every worker, over the measured time.
      expect(r.mb_per_sec).toBeCloseTo((2 * r.workers * 4 * r.floats) / r.ms / 1000, 6);
      expect(r.ratio_to_bound).toBeCloseTo(r.ms / r.socket_bound_ms, 6);
    }
    expect(lines[0]).toMatch(/^loopback TCP, one way: (\d+) MB\/s \(best of (\d+), (\d+), (\d+)\)$/);
    const [best, ...each] = /(\d+) MB\/s \(best of (\d+), (\d+), (\d+)\)/.exec(lines[0])!.slice(1).map(Number);
    expect(best).toBe(Math.max(...each));
    expect(lines).toHaveLength(3);
  }, 60_000);
});
