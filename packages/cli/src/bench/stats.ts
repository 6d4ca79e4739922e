/** The arithmetic mean of `xs`, 0 for none. */
export function mean(xs: readonly number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/**
 * The q-quantile of `xs` (0 ≤ q ≤ 1) by rank, without interpolation: the value with
 * floor(q · n) of the others below it in sorted order (the largest for q = 1); NaN for none.
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The median of `xs` (the upper one of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}
