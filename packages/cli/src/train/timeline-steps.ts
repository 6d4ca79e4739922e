import type { CoordinatorOptions } from '@flotilla/coordinator';

/** The steps a run's timeline records: from `from` through `to` (Infinity: to the end). */
export type TimelineSteps = NonNullable<CoordinatorOptions['timeline']>;

/**
 * The value of `--timeline`: absent, no timeline; given alone (''), every step; `FROM-TO`
 * (or `FROM-`), those steps, counted from 0 as metrics.jsonl counts them. A long run writes
 * about 5.6 KB per step with 2 workers, so a window keeps the file small.
 */
export function parseTimelineSteps(value: string | undefined): TimelineSteps | undefined {
  if (value === undefined) return undefined;
  if (value === '') return { from: 0, to: Infinity };
  const m = /^(\d+)-(\d*)$/.exec(value.trim());
  const from = m ? Number(m[1]) : NaN, to = m && m[2] !== '' ? Number(m[2]) : Infinity;
  if (!m || to < from) throw new Error(`Invalid --timeline: ${value} (expected FROM-TO steps, e.g. 100-199, FROM- for the rest of the run, or nothing for every step)`);
  return { from, to };
}
