import type { Tensor } from '../../autodiff/tensor.js';
import { reshape } from '../../ops/shape.js';
import { Module } from '../module.js';

/**
 * WaveNet-style grouping (seed 000): [N, T, C] → [N, T/n, n·C], concatenating each run of n
 * consecutive time steps; when one step is left the time axis is dropped, [N, n·C]. In
 * row-major memory this is a pure reshape.
 */
export class FlattenConsecutive extends Module {
  readonly type = 'flatten_consecutive';

  constructor(readonly n: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    const [batch, t, c] = x.shape as [number, number, number];
    if (x.rank !== 3 || t % this.n !== 0) {
      throw new Error(`flatten_consecutive(${this.n}): expected [N, T, C] with T divisible by ${this.n}, got [${x.shape.join(', ')}]`);
    }
    const steps = t / this.n;
    return reshape(x, steps === 1 ? [batch, c * this.n] : [batch, steps, c * this.n]);
  }
}

/** [N, ...] → [N, prod(...)]. */
export class Flatten extends Module {
  readonly type = 'flatten';

  forward(x: Tensor): Tensor {
    const batch = x.shape[0] ?? 1;
    return reshape(x, [batch, batch === 0 ? 0 : x.size / batch]);
  }
}
