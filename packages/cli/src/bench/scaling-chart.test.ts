import { describe, expect, it } from 'vitest';
import { cpuNote, efficiencyIfNoWaiting, scalingChart, scalingTable, type ScalingRun } from './scaling.js';

const run = (workers: number, threads: number, samples: number, efficiency: number, batch = 256): ScalingRun => ({
  workers, threads, batch, samples_per_sec: samples, efficiency, oversubscribed: false, steps: 60, step_ms: 1, step_ms_median: 1, step_ms_p90: 1, compute_ms: 1,
  bn_wait_ms: 0, communication_ms: 0, optimizer_ms: 0, wire_bytes_per_step: 0, coordinator_cpu_ms: 1, workers_cpu_ms: 1, cpu_floor_ms: 1, samples_per_sec_runs: [samples],
});

const STRONG = { mode: 'strong', batch: 256 } as const;

describe('the scaling chart', () => {
  it('keeps 1 × 2 and 2 × 1 on separate lines (both have 2 threads), each from the 1 × 1 baseline', () => {
    const svg = scalingChart([run(1, 1, 3924, 1), run(1, 2, 4734, 0.6), run(2, 1, 4318, 0.55)], STRONG);
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1].trim().split(' '));
    // samples/s, efficiency and the (dashed) efficiency if no step waited for each of the two families
    expect(lines).toHaveLength(6);
    expect([...svg.matchAll(/<polyline[^>]*stroke-dasharray/g)]).toHaveLength(2);
    for (const points of lines) expect(points).toHaveLength(2); // 1 thread, then 2
    expect(svg).toContain('samples/s, 1 worker × T threads');
    expect(svg).toContain('efficiency, W workers × 1 thread');
    expect(svg).not.toContain('W workers × T threads');
    // The legend sits under the plot, below every point, where it cannot cover a line.
    const lowestPoint = Math.max(...[...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1])));
    const legendYs = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)">(?:samples\/s|efficiency)[^<]*, /g)].map((m) => Number(m[1]));
    expect(legendYs).toHaveLength(6);
    for (const y of legendYs) expect(y).toBeGreaterThan(lowestPoint + 20);
  });

  it('says in its title whether the global batch was kept (strong scaling) or the batch per thread (weak), and the matmul kernel', () => {
    expect(scalingChart([run(1, 1, 3924, 1), run(2, 1, 4318, 0.55)], STRONG)).toContain('>Data-parallel scaling, global batch 256</text>');
    // Weak: 2 × 2 ran 1024 rows a step, 256 per thread; with or without a 1 × 1 run.
    const weak = scalingChart([run(2, 2, 20000, NaN, 1024), run(1, 2, 15000, NaN, 512)], { mode: 'weak', batch: 256, matmul: 'openblas' });
    expect(weak).toContain('>Data-parallel scaling, batch 256 per thread (weak scaling), matmul openblas</text>');
  });

  it('draws the efficiency each run would have if no step waited, none where the floor is unknown', () => {
    // 2 × 1 of 2026-11-24: efficiency 0.46, a 29.5 ms step, a 22.4 ms CPU floor above its
    // 12.3 ms of compute → 0.46 · 29.5 / 22.4.
    const measured = { ...run(2, 1, 8681, 0.46), step_ms: 29.5, cpu_floor_ms: 22.4, compute_ms: 12.3 };
    expect(efficiencyIfNoWaiting(measured)).toBeCloseTo(0.6058, 4);
    // 1 × 1: its one compute thread (19.5 ms) bounds the step, not its CPU floor (14.9 ms).
    const single = { ...run(1, 1, 9450, 1), step_ms: 27.1, cpu_floor_ms: 14.9, compute_ms: 19.5 };
    expect(efficiencyIfNoWaiting(single)).toBeCloseTo(27.1 / 19.5, 9);
    expect(efficiencyIfNoWaiting({ ...measured, cpu_floor_ms: null })).toBeNaN();
    expect(efficiencyIfNoWaiting({ ...measured, cpu_floor_ms: 0, compute_ms: 0 })).toBeNaN();
    const svg = scalingChart([single, measured], STRONG);
    expect(svg).toContain('efficiency if no step waited, W workers × 1 thread');
    const unknown = scalingChart([{ ...single, cpu_floor_ms: null }, { ...measured, cpu_floor_ms: null }], STRONG);
    expect(unknown).not.toContain('no step waited');
  });

  it('draws no efficiency line without a 1 × 1 baseline (efficiency unknown)', () => {
    const svg = scalingChart([run(2, 1, 4318, NaN), run(4, 1, 6000, NaN)], STRONG);
    expect(svg).toContain('samples/s, W workers × 1 thread');
    expect(svg).not.toContain('efficiency, ');
  });

  it('draws each topology\'s spread over repeated runs as a whisker from its slowest run to its fastest, and none for a single run', () => {
    expect(scalingChart([run(1, 1, 3924, 1), run(2, 1, 4318, 0.55)], STRONG)).not.toContain('class="range"');
    const repeated = (r: ScalingRun, runs: number[]): ScalingRun => ({ ...r, samples_per_sec_runs: runs });
    const svg = scalingChart([repeated(run(1, 1, 4000, 1), [3000, 4000, 4500]), repeated(run(2, 1, 6000, 0.75), [6000, 5500, 6600])], STRONG);
    const whiskers = [...svg.matchAll(/<path class="range" d="M([\d.]+),([\d.]+)H[\d.]+M[\d.]+,[\d.]+V([\d.]+)/g)].map((m) => m.slice(1).map(Number));
    expect(whiskers).toHaveLength(2);
    // The y axis runs 0..niceMax(6600) = 8000 over the plot's 310 px from y = 350 up to y = 40.
    const y = (v: number): number => 40 + 310 - (v / 8000) * 310;
    expect(whiskers[0][1]).toBeCloseTo(y(4500), 9);
    expect(whiskers[0][2]).toBeCloseTo(y(3000), 9);
    expect(whiskers[1][1]).toBeCloseTo(y(6600), 9);
    expect(whiskers[1][2]).toBeCloseTo(y(5500), 9);
    // Each through its own point (x of the circle, whisker centred on it).
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="[\d.]+" r="4" fill="#17becf"/g)].map((m) => Number(m[1]));
    expect(whiskers.map((w) => w[0] + 5)).toEqual(circles);
  });
});

describe('the scaling table', () => {
  it('has a row per topology with its median run, the spread of repeated runs, and n/a for an unknown efficiency', () => {
    const one: ScalingRun = {
      workers: 1, threads: 1, batch: 256, samples_per_sec: 8776.6, efficiency: 1, oversubscribed: false, steps: 30,
      step_ms: 29.16, step_ms_median: 28.81, step_ms_p90: 31.98, compute_ms: 20.11, bn_wait_ms: 0.13, communication_ms: 7.2, optimizer_ms: 1.72,
      wire_bytes_per_step: 4_304_976, coordinator_cpu_ms: 6.04, workers_cpu_ms: 24.96, cpu_floor_ms: 15.5, samples_per_sec_runs: [8471.7, 8776.6, 8797.1],
    };
    // A worker that did not report its CPU leaves the workers' sum and the floor unknown.
    const four: ScalingRun = {
      ...one, workers: 2, threads: 2, batch: 1024, samples_per_sec: 12_000, efficiency: NaN, oversubscribed: true, workers_cpu_ms: null, cpu_floor_ms: null, samples_per_sec_runs: [12_000],
    };
    const lines = scalingTable([one, four]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe('| 1 × 1 | 256 | 8,777 (8,472–8,797) | 1.00 | 29.2 | 28.8 | 32.0 | 20.1 | 0.1 | 7.2 | 1.7 | 4.3 | 6.0 | 25.0 | 15.5 |');
    expect(lines[3]).toBe('| 2 × 2 (oversubscribed) | 1024 | 12,000 | n/a | 29.2 | 28.8 | 32.0 | 20.1 | 0.1 | 7.2 | 1.7 | 4.3 | 6.0 | – | – |');
  });
});

describe('the CPU note of a run\'s log line', () => {
  it('gives both processes\' CPU and the floor, and nothing when a part is unknown', () => {
    const run = { coordinator_cpu_ms: 9.71, workers_cpu_ms: 35.04, cpu_floor_ms: 22.375 };
    expect(cpuNote(run, 2)).toBe('; CPU per step: coordinator 9.7 ms + workers 35.0 ms over 2 cores, so no step could take under 22.4 ms here');
    expect(cpuNote({ ...run, workers_cpu_ms: null, cpu_floor_ms: null }, 2)).toBe('');
    expect(cpuNote({ ...run, coordinator_cpu_ms: null, cpu_floor_ms: null }, 2)).toBe('');
  });
});
