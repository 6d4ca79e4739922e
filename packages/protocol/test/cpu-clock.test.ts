import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CpuClock } from '../src/index.js';

describe('CpuClock', () => {
  it('reports user + system microseconds since the previous lap, in milliseconds', () => {
    const readings = [{ user: 1_000, system: 500 }, { user: 4_000, system: 1_500 }, { user: 4_250, system: 1_500 }];
    const clock = new CpuClock(() => readings.shift()!);
    expect(clock.lap()).toBe(4); // (4000 − 1000 + 1500 − 500) µs
    expect(clock.lap()).toBe(0.25);
  });

  it('reads process.cpuUsage in milliseconds', () => {
    // Spins until Node itself reports 40 ms more CPU (however loaded the machine, and bounded
    // at 10 s of wall time): the lap is those 40 ms and at most what the process could have
    // used meanwhile, not 40,000 (microseconds) or 0.04 (seconds).
    const clock = new CpuClock(() => process.cpuUsage());
    const from = process.cpuUsage(), started = performance.now();
    let x = 0;
    while (process.cpuUsage(from).user + process.cpuUsage(from).system < 40_000 && performance.now() - started < 10_000) x += Math.sqrt(x + 1);
    const wallMs = performance.now() - started;
    const lap = clock.lap();
    expect(x).toBeGreaterThan(0);
    expect(lap).toBeGreaterThanOrEqual(40);
    expect(lap).toBeLessThan(40 + wallMs * availableParallelism());
  });
});
