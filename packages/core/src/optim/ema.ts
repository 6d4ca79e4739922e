import { allocFloat, dtypeOf, type FloatArray } from '../dtype.js';
import { kernels } from '../kernels/index.js';

/**
 * A running average of the parameter vector for test time (seed 003):
 *   x_test ← decay·x_test + (1 − decay)·x,  decay = 0.995 by default,
 * started from the initial parameters. One loop over the flat vector (DESIGN 1).
 */
export class ExponentialMovingAverage {
  readonly values: FloatArray;
  readonly decay: number;
  updates = 0;

  constructor(initial: FloatArray, decay = 0.995) {
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`Invalid EMA decay: ${decay} (expected 0 <= decay < 1)`);
    this.decay = decay;
    this.values = allocFloat(dtypeOf(initial), initial.length);
    this.values.set(initial);
  }

  update(params: FloatArray): void {
    if (params.length !== this.values.length) throw new RangeError(`EMA: params has ${params.length} elements, expected ${this.values.length}`);
    kernels.axpby(params, this.values, this.decay, 1 - this.decay); // v ← decay·v + (1 − decay)·x
    this.updates++;
  }
}
