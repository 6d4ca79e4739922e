import type { FrameAllocator } from './frame.js';

/**
 * Recycled buffers for the large frames sent every step (parameters, gradients). A fresh
 * multi-megabyte ArrayBuffer per message is external memory, and its churn drives V8 into a
 * full mark-compact about once a step (measured on a worker's main thread: ~15 ms a step,
 * which also delays the SyncBN replies it relays). The sender returns a frame with
 * `release` once the socket has written it (the ws send callback); until then the frame is
 * not handed out again.
 */
export class FramePool {
  private readonly free: ArrayBuffer[] = [];

  /** `keep`: how many idle buffers to hold on to. */
  constructor(private readonly keep = 4) {}

  /** A FrameAllocator: a recycled buffer big enough for `bytes`, or a new one with some slack. */
  readonly alloc: FrameAllocator = (bytes) => {
    const i = this.free.findIndex((b) => b.byteLength >= bytes);
    const buffer = i >= 0 ? this.free.splice(i, 1)[0] : new ArrayBuffer(Math.ceil((bytes + 1) / 65536) * 65536);
    return new Uint8Array(buffer, 0, bytes);
  };

  /**
   * A send callback for `frame` going to `writers` sockets: the frame comes back to the pool
   * when the last of them has written it (each calls back once, on success or error).
   */
  releaseAfter(frame: Uint8Array<ArrayBuffer>, writers = 1): () => void {
    let left = writers;
    return () => { if (--left === 0) this.release(frame); };
  }

  /** Gives a frame's buffer back; call only when nothing (no socket write) still reads it. */
  release(frame: Uint8Array<ArrayBuffer>): void {
    if (this.free.length < this.keep && !this.free.includes(frame.buffer)) this.free.push(frame.buffer);
  }
}
