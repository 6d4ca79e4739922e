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

/**
 * The mean of field `key` over `records`, or null when any record lacks it (a number there):
 * a mean over only some of them would describe other steps than the others' means.
 */
export function meanIfAll(records: ReadonlyArray<Record<string, unknown>>, key: string): number | null {
  const values = records.map((r) => r[key]);
  return values.length > 0 && values.every((v): v is number => typeof v === 'number') ? mean(values) : null;
}
