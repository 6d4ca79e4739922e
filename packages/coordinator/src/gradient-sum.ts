/** One worker's result for a step. */
export interface GradientContribution {
  workerId: number;
  samples: number;
  loss: number;
  grads: Float32Array;
  buffers: Float32Array;
  computeMs: number;
  bnWaitMs: number;
}

export interface ReducedStep {
  samples: number;
  loss: number;
  computeMs: number;
  bnWaitMs: number;
}

/**
 * The all-reduce of a step: gradients are summed (each shard's loss was already divided by
 * the global batch, so the sum is the gradient of the global mean) and BatchNorm running
 * statistics averaged weighted by samples, both in worker-id order so the result does not
 * depend on which worker answered first.
 */
export class GradientSum {
  private readonly contributions = new Map<number, GradientContribution>();

  constructor(private readonly expected: readonly number[]) {}

  add(c: GradientContribution): boolean {
    if (!this.expected.includes(c.workerId)) throw new Error(`worker ${c.workerId} is not part of this step`);
    if (this.contributions.has(c.workerId)) throw new Error(`worker ${c.workerId} sent its gradient twice`);
    this.contributions.set(c.workerId, c);
    return this.contributions.size === this.expected.length;
  }

  get complete(): boolean {
    return this.contributions.size === this.expected.length;
  }

  /** Writes Σ gradients into `grads` and the weighted mean of buffers into `buffers`. */
  reduceInto(grads: Float32Array, buffers: Float32Array): ReducedStep {
    const ordered = [...this.expected].sort((x, y) => x - y).map((id) => this.contributions.get(id)!);
    let samples = 0, loss = 0, computeMs = 0, bnWaitMs = 0;
    ordered.forEach((c, k) => {
      samples += c.samples;
      loss += c.loss;
      computeMs = Math.max(computeMs, c.computeMs);
      bnWaitMs = Math.max(bnWaitMs, c.bnWaitMs);
      // The first contribution is copied (0 + g is g), saving a pass over the gradient.
      if (k === 0) grads.set(c.grads);
      else for (let i = 0; i < grads.length; i++) grads[i] += c.grads[i];
    });
    if (ordered.length === 0) grads.fill(0);
    if (samples > 0) {
      buffers.fill(0);
      for (const c of ordered) {
        const w = c.samples / samples;
        if (w === 0) continue;
        for (let i = 0; i < buffers.length; i++) buffers[i] += w * c.buffers[i];
      }
    }
    return { samples, loss, computeMs, bnWaitMs };
  }
}
