import { describe, expect, it } from 'vitest';
import { lineChartSvg, type Series } from './line-chart.js';

const legendXs = (svg: string): number[] => [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+">name /g)].map((m) => Number(m[1]));
const series = (name: string, dashed = false): Series => ({ name, color: '#123456', points: [[1, 1], [2, 2]], dashed });
const OPTIONS = { title: 't', xLabel: 'x', yLabel: 'y' };

describe('lineChartSvg', () => {
  it('lays the legend out two entries a row, or one a row when a name would run into its neighbour', () => {
    const short = lineChartSvg([series('name a'), series('name b'), series('name c')], OPTIONS);
    const [a, b, c] = legendXs(short);
    expect(b).toBeGreaterThan(a);
    expect(c).toBe(a);
    const long = lineChartSvg([series('name a'), series(`name ${'long '.repeat(10)}`)], OPTIONS);
    expect(new Set(legendXs(long)).size).toBe(1);
    // Every legend row is inside the picture.
    const height = Number(/<svg[^>]* height="(\d+)"/.exec(long)![1]);
    for (const y of [...long.matchAll(/<text x="[\d.]+" y="([\d.]+)">name /g)].map((m) => Number(m[1]))) expect(y).toBeLessThan(height);
  });

  it('draws a dashed series with a dashed line, hollow markers and a dashed legend key', () => {
    const svg = lineChartSvg([series('name solid'), series('name bound', true)], OPTIONS);
    expect([...svg.matchAll(/<polyline[^>]*stroke-dasharray="6 4"/g)]).toHaveLength(1);
    expect([...svg.matchAll(/<circle [^>]*fill="white"/g)]).toHaveLength(2);
    expect([...svg.matchAll(/<line [^>]*stroke-dasharray="4 2"/g)]).toHaveLength(1);
  });
});
