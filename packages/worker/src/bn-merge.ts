import { mergeMoments } from '@flotilla/core';

/**
 * The reduction of a worker's K slots at a SyncBN barrier (DESIGN 6). The main thread runs
 * it before a cross-process exchange; in a solo step the last thread to arrive runs it. One
 * function for both, so either path gives the same bits.
 */

/**
 * Folds the slots' (count, a, b) into (a, b) in slot order 0..K-1 and returns the count:
 * Chan's parallel formula for forward moments (count, mean, M2), plain sums for backward
 * (Σdy, Σdy·x̂). `shards` holds K slots of `width` float64s; a and b have the channel count.
 */
export function mergeSlots(shards: Float64Array, width: number, threads: number, forward: boolean, a: Float64Array, b: Float64Array): number {
  const c = a.length;
  a.fill(0);
  b.fill(0);
  let count = 0;
  for (let k = 0; k < threads; k++) {
    const base = k * width;
    if (forward) {
      count = mergeMoments(count, a, b, shards[base], shards.subarray(base + 1, base + 1 + c), shards.subarray(base + 1 + c, base + 1 + 2 * c));
    } else {
      for (let j = 0; j < c; j++) { a[j] += shards[base + 1 + j]; b[j] += shards[base + 1 + c + j]; }
    }
  }
  return count;
}

/**
 * At a backward barrier: where the gradient suffix final in every slot starts. Slot k's is
 * final from its own word on, so all of them are from the largest (the parameter count
 * when nothing is).
 */
export function sharedReadyFrom(words: Int32Array, threads: number): number {
  let from = 0;
  for (let k = 0; k < threads; k++) from = Math.max(from, Atomics.load(words, k));
  return from;
}
