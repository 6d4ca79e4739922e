import type { Tensor } from '../autodiff/tensor.js';
import type { Model } from '../model/model.js';

/**
 * Which part of a model's flat gradient is final during a backward pass: the longest suffix
 * [readyFrom, P) whose parameters have all had every contribution. Backward runs from the
 * output towards the input and later layers sit later in the flat layout, so the suffix
 * grows as the pass goes on; a worker can send it while the earlier layers are still being
 * differentiated (DDP's gradient buckets, with the flat layout as the bucket order).
 */
export class GradientReadiness {
  private readonly index = new Map<Tensor, number>();
  private readonly final: Uint8Array;
  /** Lowest parameter index of the final suffix. */
  private next: number;
  /** Start of the final suffix of the flat gradient; the parameter count when none is final. */
  readyFrom: number;

  constructor(private readonly model: Model) {
    const n = model.paramLayout.length;
    for (let i = 0; i < n; i++) this.index.set(model.paramTensor(i), i);
    this.final = new Uint8Array(n);
    this.next = n;
    this.readyFrom = model.params.length;
  }

  /** Before each backward pass. */
  reset(): void {
    this.final.fill(0);
    this.next = this.final.length;
    this.readyFrom = this.model.params.length;
  }

  /** The `onLeafReady` hook of a backward pass. */
  readonly onLeafReady = (leaf: Tensor): void => {
    const i = this.index.get(leaf);
    if (i === undefined) return;
    this.final[i] = 1;
    while (this.next > 0 && this.final[this.next - 1] === 1) {
      this.next--;
      this.readyFrom = this.model.paramLayout[this.next].offset;
    }
  };
}
