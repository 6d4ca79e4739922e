/**
 * Chan, Golub & LeVeque's parallel update of (count, mean, M2) (DESIGN 6): merging shard
 * statistics this way is exact in float64 however uneven (or empty) the shards are, where
 * summing raw Σx² in float32 cancels badly.
 *
 *   n = n_a + n_b,  δ = μ_b − μ_a,  μ = μ_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n
 *
 * Merges shard b into the accumulator (a) in place, per channel; returns the new count.
 */
export function mergeMoments(
  countA: number, meanA: Float64Array, m2A: Float64Array,
  countB: number, meanB: ArrayLike<number>, m2B: ArrayLike<number>,
): number {
  if (countB === 0) return countA;
  const n = countA + countB;
  if (countA === 0) {
    for (let j = 0; j < meanA.length; j++) { meanA[j] = meanB[j]; m2A[j] = m2B[j]; }
    return n;
  }
  const wb = countB / n;
  const cross = (countA * countB) / n;
  for (let j = 0; j < meanA.length; j++) {
    const delta = meanB[j] - meanA[j];
    meanA[j] += delta * wb;
    m2A[j] += m2B[j] + delta * delta * cross;
  }
  return n;
}
