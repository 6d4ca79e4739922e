/** The arithmetic mean of `xs`, 0 for none. */
export function mean(xs: readonly number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** The median of `xs` (the upper one of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  return xs.length > 0 ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN;
}
