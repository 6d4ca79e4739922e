import { describe, expect, it } from 'vitest';
import { CpuClock } from '../src/index.js';

describe('CpuClock', () => {
  it('reports user + system microseconds since the previous lap, in milliseconds', () => {
    const readings = [{ user: 1_000, system: 500 }, { user: 4_000, system: 1_500 }, { user: 4_250, system: 1_500 }];
    const clock = new CpuClock(() => readings.shift()!);
    expect(clock.lap()).toBe(4); // (4000 − 1000 + 1500 − 500) µs
    expect(clock.lap()).toBe(0.25);
  });

  it('counts a busy loop and not a sleep', async () => {
    const clock = new CpuClock(() => process.cpuUsage());
    const until = performance.now() + 80;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const busy = clock.lap();
    await new Promise((r) => setTimeout(r, 80));
    const idle = clock.lap();
    expect(x).toBeGreaterThan(0);
    // 80 ms spinning is nearly 80 ms of CPU unless the machine takes the core away; 80 ms
    // asleep is next to none (timers, a GC thread).
    expect(busy).toBeGreaterThan(30);
    expect(idle).toBeLessThan(busy - 20);
  });
});
