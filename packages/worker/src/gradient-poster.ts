import { Control, type SharedState } from './shared-state.js';

/**
 * The thread side of gradient parts in steps without backward barriers to send them at
 * (per-shard BatchNorm, or a model without BatchNorm): as backward goes on, the thread posts
 * where its final gradient suffix starts in its readyFrom word and bumps Control.posts, and
 * the main thread sends what every slot has finished (BarrierHost.nextPost). Posts come only
 * once the suffix has grown by a part's worth, so small layers do not wake the main thread,
 * and not for the end of backward: the gradient message carries the rest.
 */
export class GradientPoster {
  private readonly control: Int32Array;
  private readonly readyWords: Int32Array;
  private lastPosted: number;

  constructor(private readonly state: SharedState, private readonly slotIndex: number, private readonly minFloats: number) {
    this.control = new Int32Array(state.control);
    this.readyWords = new Int32Array(state.readyFrom);
    this.lastPosted = state.paramCount;
  }

  /** Before each step. */
  reset(): void {
    this.lastPosted = this.state.paramCount;
  }

  /** The slot's gradient is final from `readyFrom` on; posted if worth a part. */
  progress(readyFrom: number): void {
    if (readyFrom > 0 && this.lastPosted - readyFrom >= this.minFloats) this.post(readyFrom);
  }

  /** A slot with no rows: all of its (zero) gradient is final from the start. */
  empty(): void {
    this.post(0);
  }

  private post(readyFrom: number): void {
    this.lastPosted = readyFrom;
    Atomics.store(this.readyWords, this.slotIndex, readyFrom);
    Atomics.add(this.control, Control.posts, 1);
    Atomics.notify(this.control, Control.posts);
  }
}
