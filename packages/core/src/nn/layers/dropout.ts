import type { Tensor } from '../../autodiff/tensor.js';
import { allocFloatEmpty } from '../../dtype.js';
import { kernels } from '../../kernels/index.js';
import { applyMask } from '../../ops/fused/mask.js';
import { CounterRng, RngPurpose } from '../../rng.js';
import { Module, type ForwardContext } from '../module.js';

/**
 * Inverted dropout (seed 001, seed 003): in training each element is kept with probability
 * 1 − p and scaled by 1/(1 − p), so eval needs no rescaling. The mask of element e of global
 * row r at step s is uniform(seed, [dropout·2¹⁶ + layer, s], r·features + e) ≥ p, so it is
 * the same whatever the sharding (DESIGN 5).
 */
export class Dropout extends Module {
  readonly type = 'dropout';

  constructor(readonly p: number) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Invalid dropout probability: ${p} (expected 0 <= p < 1)`);
  }

  /** The mask for `rows` rows of `perRow` elements starting at global row `rowOffset`. */
  mask(ctx: ForwardContext, rows: number, perRow: number, dtype: 'float32' | 'float64'): Float32Array | Float64Array {
    const mask = allocFloatEmpty(dtype, rows * perRow); // keepMask writes every element
    // One pass, the uniform compared with p as it is generated (CounterRng.fillMask; the
    // default kernel runs Philox in WebAssembly SIMD lanes, bit-identically).
    kernels.keepMask(mask, new CounterRng(ctx.seed), [RngPurpose.dropout * 65536 + this.id, ctx.step], ctx.rowOffset * perRow, this.p, 1 / (1 - this.p));
    return mask;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (!this.training || this.p === 0) return x;
    const rows = x.shape[0] ?? 1;
    const perRow = rows === 0 ? 0 : x.size / rows;
    return applyMask(x, this.mask(ctx, rows, perRow, x.dtype));
  }
}
