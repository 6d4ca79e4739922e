import { kernels } from '@flotilla/core';

/** One worker's result for a step. */
export interface GradientContribution {
  workerId: number;
  samples: number;
  loss: number;
  /** The worker's gradient for parameters [0, grads.length): all of it, or what its parts left. */
  grads: Float32Array;
  buffers: Float32Array;
  computeMs: number;
  bnWaitMs: number;
  /** The worker process's CPU since its previous gradient, when it reports it. */
  cpuMs?: number;
}

export interface ReducedStep {
  samples: number;
  loss: number;
  computeMs: number;
  bnWaitMs: number;
  /** Σ over the members of their CPU time (null unless every one reported it). */
  workersCpuMs: number | null;
}

/** Values of one worker's gradient for [offset, offset + values.length), as one message brought them. */
interface Piece {
  offset: number;
  values: Float32Array;
}

/**
 * The all-reduce of a step: gradients are summed (each shard's loss was already divided by
 * the global batch, so the sum is the gradient of the global mean) and BatchNorm running
 * statistics averaged weighted by samples, both in worker-id order so the result does not
 * depend on which worker answered first.
 *
 * Workers may send the end of their gradient in parts during backward (from the back of
 * the flat gradient towards the front). Whatever range every member has sent is summed into
 * `target` at once, as DDP reduces a bucket as soon as it is ready, so only the rest is left
 * for the end of the step. Each element is still the same sum in the same order.
 */
export class GradientSum {
  private readonly contributions = new Map<number, GradientContribution>();
  /** Each member's pieces, in arrival order (from the back of the gradient to the front). */
  private readonly pieces = new Map<number, Piece[]>();
  /** Where the suffix each member has sent starts. */
  private readonly received = new Map<number, number>();
  private readonly ordered: number[];
  /** target[reducedFrom, P) already holds the sum over every member. */
  private reducedFrom: number;

  /**
   * `minPartFloats`: the run's smallest part (--bucket-mb; Infinity when parts are off).
   * Workers never send less, and a flood of tiny parts would make summing quadratic.
   */
  constructor(private readonly expected: readonly number[], private readonly target: Float32Array, private readonly minPartFloats = Infinity) {
    this.ordered = [...expected].sort((x, y) => x - y);
    for (const id of expected) {
      this.pieces.set(id, []);
      this.received.set(id, target.length);
    }
    this.reducedFrom = target.length;
  }

  /** A gradient part from a member: it must end where the member's previous part began. */
  addPart(workerId: number, offset: number, values: Float32Array): void {
    this.checkMember(workerId);
    if (this.contributions.has(workerId)) throw new Error(`worker ${workerId} sent a gradient part after its gradient`);
    const end = offset + values.length;
    const expectedEnd = this.received.get(workerId)!;
    if (values.length === 0 || end !== expectedEnd) {
      throw new Error(`worker ${workerId} sent gradient part [${offset}, ${end}); the next part must end at ${expectedEnd}`);
    }
    if (values.length < this.minPartFloats) {
      throw new Error(this.minPartFloats === Infinity
        ? `worker ${workerId} sent a gradient part; this run sends whole gradients (--bucket-mb 0)`
        : `worker ${workerId} sent a gradient part of ${values.length} values; this run's parts have at least ${this.minPartFloats} (--bucket-mb)`);
    }
    this.pieces.get(workerId)!.push({ offset, values });
    this.received.set(workerId, offset);
    this.reduceReady();
  }

  /** A member's gradient message, after `parts` parts; true once every member's is in. */
  add(c: GradientContribution, parts = 0): boolean {
    this.checkMember(c.workerId);
    if (this.contributions.has(c.workerId)) throw new Error(`worker ${c.workerId} sent its gradient twice`);
    const pieces = this.pieces.get(c.workerId)!;
    if (parts !== pieces.length) throw new Error(`worker ${c.workerId}'s gradient says ${parts} parts came first, ${pieces.length} did`);
    const left = this.received.get(c.workerId)!;
    if (c.grads.length !== left) throw new Error(`worker ${c.workerId}'s gradient has ${c.grads.length} values, its parts left ${left}`);
    pieces.push({ offset: 0, values: c.grads });
    this.received.set(c.workerId, 0);
    this.contributions.set(c.workerId, c);
    this.reduceReady();
    return this.complete;
  }

  /** Gradient parts received so far, over all members. */
  get parts(): number {
    let n = 0;
    for (const [id, pieces] of this.pieces) n += pieces.length - (this.contributions.has(id) ? 1 : 0);
    return n;
  }

  get complete(): boolean {
    return this.contributions.size === this.expected.length;
  }

  /** Completes Σ gradients in `target` and writes the weighted mean of buffers into `buffers`. */
  reduceInto(buffers: Float32Array): ReducedStep {
    const ordered = this.ordered.map((id) => this.contributions.get(id)!);
    let samples = 0, loss = 0, computeMs = 0, bnWaitMs = 0;
    let workersCpuMs: number | null = ordered.length > 0 ? 0 : null;
    for (const c of ordered) {
      samples += c.samples;
      loss += c.loss;
      computeMs = Math.max(computeMs, c.computeMs);
      bnWaitMs = Math.max(bnWaitMs, c.bnWaitMs);
      workersCpuMs = workersCpuMs === null || c.cpuMs === undefined ? null : workersCpuMs + c.cpuMs;
    }
    if (ordered.length === 0) this.target.fill(0);
    else this.reduceReady();
    if (samples > 0) {
      buffers.fill(0);
      for (const c of ordered) {
        const w = c.samples / samples;
        if (w === 0) continue;
        for (let i = 0; i < buffers.length; i++) buffers[i] += w * c.buffers[i];
      }
    }
    return { samples, loss, computeMs, bnWaitMs, workersCpuMs };
  }

  private checkMember(workerId: number): void {
    if (!this.pieces.has(workerId)) throw new Error(`worker ${workerId} is not part of this step`);
  }

  /** Sums the range every member has sent that is not summed yet. */
  private reduceReady(): void {
    let from = 0;
    for (const start of this.received.values()) from = Math.max(from, start);
    if (from >= this.reducedFrom) return;
    this.sumRange(from, this.reducedFrom);
    this.reducedFrom = from;
  }

  /**
   * target[lo, hi) = Σ over members in id order (the first copied: 0 + g is g), one addN per
   * stretch where every member's value comes from a single piece.
   */
  private sumRange(lo: number, hi: number): void {
    const cuts = new Set([lo, hi]);
    for (const pieces of this.pieces.values()) {
      for (const { offset, values } of pieces) {
        for (const at of [offset, offset + values.length]) if (at > lo && at < hi) cuts.add(at);
      }
    }
    const bounds = [...cuts].sort((x, y) => x - y);
    for (let s = 0; s + 1 < bounds.length; s++) {
      const a = bounds[s], b = bounds[s + 1];
      kernels.addN(this.ordered.map((id) => this.valuesOf(id, a, b)), this.target.subarray(a, b));
    }
  }

  /** Member `id`'s values for [a, b), which lie within one of its pieces. */
  private valuesOf(id: number, a: number, b: number): Float32Array {
    const { offset, values } = this.pieces.get(id)!.find((p) => p.offset <= a && b <= p.offset + p.values.length)!;
    return values.subarray(a - offset, b - offset);
  }
}
