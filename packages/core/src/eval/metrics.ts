/** Accuracy, negative log-likelihood and calibration of predicted class probabilities. */
export interface ProbabilityMetrics {
  accuracy: number;
  /** Mean −log p(label), nats. */
  nll: number;
  /** Expected calibration error with `bins` equal-width confidence bins. */
  ece: number;
  count: number;
}

/** Probabilities this small are clamped before the log, so one confident mistake stays finite. */
const MIN_PROBABILITY = 1e-12;

/**
 * Metrics of probabilities `probs` ([N, C], rows summing to 1) against integer labels.
 * ECE (Guo et al. 2017): rows are binned by confidence max_k p_k into `bins` equal-width
 * bins; ECE = Σ_b (n_b/N)·|accuracy_b − mean confidence_b|.
 */
export function probabilityMetrics(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number, bins = 15): ProbabilityMetrics {
  const n = labels.length;
  if (probs.length !== n * classes) throw new Error(`probabilityMetrics: ${probs.length} probabilities for ${n} labels of ${classes} classes`);
  let correct = 0, nll = 0;
  const binCount = new Float64Array(bins), binCorrect = new Float64Array(bins), binConfidence = new Float64Array(bins);
  for (let r = 0; r < n; r++) {
    const base = r * classes;
    let best = 0;
    for (let j = 1; j < classes; j++) if (probs[base + j] > probs[base + best]) best = j;
    const hit = best === labels[r] ? 1 : 0;
    correct += hit;
    nll -= Math.log(Math.max(MIN_PROBABILITY, probs[base + labels[r]]));
    const confidence = probs[base + best];
    const b = Math.min(bins - 1, Math.floor(confidence * bins));
    binCount[b]++;
    binCorrect[b] += hit;
    binConfidence[b] += confidence;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (binCount[b] > 0) ece += Math.abs(binCorrect[b] - binConfidence[b]) / n;
  }
  return { accuracy: n > 0 ? correct / n : 0, nll: n > 0 ? nll / n : 0, ece, count: n };
}

/**
 * The ensemble's prediction (seed 004: average the members' predicted distributions, not
 * their weights or activations): p(y|x) = (1/M) Σ_m p_m(y|x), written into `out`.
 */
export function averageProbabilities(members: ReadonlyArray<ArrayLike<number>>, out: Float64Array): Float64Array {
  if (members.length === 0) throw new Error('averageProbabilities: no members');
  out.fill(0);
  for (const p of members) {
    if (p.length !== out.length) throw new Error(`averageProbabilities: member has ${p.length} probabilities, expected ${out.length}`);
    for (let i = 0; i < out.length; i++) out[i] += p[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= members.length;
  return out;
}
