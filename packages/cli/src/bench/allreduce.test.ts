import { describe, expect, it } from 'vitest';
import { benchAllReduce, checkSum } from './allreduce.js';

describe('bench allreduce', () => {
  it('runs real client processes on loopback, checks every sum and reports times beside the socket bound', async () => {
    const lines: string[] = [];
    const bench = await benchAllReduce([1000, 4099], [2], {
      rounds: 3, warmupRounds: 2, warmupMs: 50, transfers: 2, transferBytes: 8 << 20, log: (l) => lines.push(l),
    });
    const { runs } = bench;
    expect(runs.map((r) => [r.floats, r.workers, r.rounds])).toEqual([[1000, 2, 3], [4099, 2, 3]]);
    // Warm-up: at least the rounds asked for, and enough rounds to fill the time asked for.
    for (const r of runs) expect(r.warmup_rounds).toBeGreaterThanOrEqual(2);
    // The bound is the best of the transfers before and after the all-reduces.
    expect(bench.loopback_transfers).toHaveLength(4);
    expect(bench.loopback_bytes_per_sec).toBe(Math.max(...bench.loopback_transfers));
    for (const r of runs) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.ws_echo_ms).toBeGreaterThan(0);
      // Every byte out and back for every worker, through one link at the best transfer.
      expect(r.socket_bound_ms).toBeCloseTo((1000 * 2 * r.workers * 4 * r.floats) / bench.loopback_bytes_per_sec, 9);
      expect(r.mb_per_sec).toBeCloseTo((2 * r.workers * 4 * r.floats) / r.ms / 1000, 6);
      expect(r.ratio_to_bound).toBeCloseTo(r.ms / r.socket_bound_ms, 6);
    }
    expect(lines[0]).toMatch(/^loopback TCP before, one way: \d+, \d+ MB\/s$/);
    expect(lines[1]).toMatch(/^1e\+3 floats × 2 workers: [\d.]+ ms per all-reduce, \d+ MB\/s \(median of 3 rounds after \d+ warm-up rounds\); ws echo of the same bytes [\d.]+ ms$/);
    expect(lines[3]).toMatch(/^loopback TCP after, one way: \d+, \d+ MB\/s$/);
    expect(lines.at(-1)).toMatch(/^4e\+3 floats × 2 workers: [\d.]+ ms against a bound of [\d.]+ ms \([\d.]+×\)$/);
    expect(lines).toHaveLength(7);
  }, 60_000);

  it('checkSum accepts a sum of workers × 0.5 everywhere and names the first wrong element', () => {
    const workers = 3, want = workers * 0.5;
    expect(() => checkSum(new Float32Array(4099).fill(want), want)).not.toThrow();
    const wrong = new Float32Array(4099).fill(want);
    wrong[1234] = 1;
    expect(() => checkSum(wrong, want)).toThrow('all-reduce summed element 1234 to 1, expected 1.5');
    const nan = new Float32Array(10).fill(want);
    nan[7] = Number.NaN;
    expect(() => checkSum(nan, want)).toThrow('all-reduce summed element 7 to NaN, expected 1.5');
  });

  it('with --grad-dtype bf16 the gradients come back as 16-bit values: 6 bytes a value and worker, summed exactly', async () => {
    const bench = await benchAllReduce([4099], [2], {
      rounds: 3, warmupRounds: 2, warmupMs: 50, transfers: 1, transferBytes: 8 << 20, gradDtype: 'bf16', log: () => {},
    });
    expect(bench.grad_dtype).toBe('bf16');
    const [run] = bench.runs;
    // Every round's sum was checked (workers × 0.5, exact in bfloat16) inside the bench.
    expect(run.socket_bound_ms).toBeCloseTo((1000 * run.workers * (4 + 2) * run.floats) / bench.loopback_bytes_per_sec, 9);
    expect(run.mb_per_sec).toBeCloseTo((run.workers * (4 + 2) * run.floats) / run.ms / 1000, 6);
  }, 60_000);
});
