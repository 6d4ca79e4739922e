import { describe, expect, it } from 'vitest';
import { meanIfAll, median, quantile } from './stats.js';

describe('quantile and median', () => {
  it('pick by rank without interpolating, whatever the input order', () => {
    const xs = [40, 10, 30, 20, 50, 90, 60, 80, 70, 100]; // 10..100 shuffled
    expect(quantile(xs, 0)).toBe(10);
    expect(quantile(xs, 0.5)).toBe(60); // floor(0.5·10) = 5 values below it
    expect(quantile(xs, 0.9)).toBe(100); // floor(0.9·10) = 9 below
    expect(quantile(xs, 0.85)).toBe(90); // floor(8.5) = 8 below
    expect(quantile(xs, 1)).toBe(100);
    expect(median(xs)).toBe(60); // the upper of the middle two
    expect(median([3, 1, 2])).toBe(2);
    expect(xs[0]).toBe(40); // the input is left as it was
  });

  it('is NaN for no values', () => {
    expect(quantile([], 0.9)).toBeNaN();
    expect(median([])).toBeNaN();
  });
});

describe('meanIfAll', () => {
  it('averages a field every record has, and is null when one lacks it', () => {
    expect(meanIfAll([{ cpu: 3 }, { cpu: 4.5 }, { cpu: 6 }], 'cpu')).toBe(4.5);
    expect(meanIfAll([{ cpu: 3 }, { other: 1 }, { cpu: 6 }], 'cpu')).toBeNull();
    expect(meanIfAll([{ cpu: 3 }, { cpu: null }], 'cpu')).toBeNull();
    expect(meanIfAll([], 'cpu')).toBeNull();
  });
});
