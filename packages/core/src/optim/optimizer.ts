import { allocFloat, dtypeOf, type FloatArray } from '../dtype.js';
import { checkLr, copyHyper, withDefaults } from './options.js';

export type HyperValue = number | boolean | string | number[];
export type Hyper = Record<string, HyperValue>;

/**
 * Everything needed to resume an optimizer: plain-data hyperparameters and per-element
 * buffers (named as in PyTorch's state_dict: `momentum_buffer`, `exp_avg`, ...). Buffers have
 * the dtype of the parameters they were sized to (Float32Array in training), so each maps
 * onto one safetensors tensor (F32, or F64 for float64 runs).
 */
export interface OptimizerState {
  kind: string;
  step: number;
  hyper: Hyper;
  buffers: Record<string, FloatArray>;
}

/** A first-order optimizer over one flat parameter vector and its flat gradient (DESIGN 1). */
export interface Optimizer {
  readonly kind: string;
  /** Number of steps taken; Adam's bias correction uses it. */
  readonly stepCount: number;
  /** The constructor's (or loaded) learning rate, used when `step` gets none. */
  readonly lr: number;
  /** Updates `params` in place. `lr`, e.g. from a schedule, overrides `this.lr` for this step. */
  step(params: FloatArray, grads: FloatArray, lr?: number): void;
  state(): OptimizerState;
  loadState(s: OptimizerState): void;
}

/**
 * State and bookkeeping in a class, maths in a pure update function (the PyTorch pattern).
 * Buffers are allocated on the first step, sized and typed like the parameters, starting at
 * zero (tinygrad's choice, so the first step needs no special case); `step` allocates
 * nothing afterwards.
 */
export abstract class BaseOptimizer<H extends Hyper & { lr: number }> implements Optimizer {
  protected hyper: H;
  protected buffers: Record<string, FloatArray> = {};
  private t = 0;
  /** Parameter count the buffers are sized for; -1 until the first step or a loaded state. */
  private size = -1;

  protected constructor(
    readonly kind: string,
    private readonly defaults: H,
    options: Readonly<Record<string, unknown>>,
  ) {
    this.hyper = withDefaults(kind, defaults, options);
    this.validate(this.hyper);
  }

  /** Throws a clear error for an out-of-range hyperparameter. */
  protected abstract validate(h: H): void;
  /** Names of the per-element buffers these hyperparameters need. */
  protected abstract bufferNames(h: H): string[];
  /** The update itself; buffers are allocated and sized when it runs. */
  protected abstract update(params: FloatArray, grads: FloatArray, lr: number, step: number): void;
  /** Fills freshly allocated buffers when zero is not the right start (AdaGrad). */
  protected initBuffers(): void {}

  get stepCount(): number {
    return this.t;
  }

  get lr(): number {
    return this.hyper.lr;
  }

  step(params: FloatArray, grads: FloatArray, lr: number = this.hyper.lr): void {
    checkLr(lr);
    if (grads.length !== params.length) {
      throw new RangeError(`${this.kind}.step: params has ${params.length} elements but grads has ${grads.length}`);
    }
    if (this.size < 0) this.allocate(params);
    else if (params.length !== this.size) {
      throw new RangeError(
        `${this.kind}.step: params has ${params.length} elements but the optimizer state is sized for ${this.size}`,
      );
    }
    this.t += 1;
    this.update(params, grads, lr, this.t);
  }

  state(): OptimizerState {
    const buffers: Record<string, FloatArray> = {};
    for (const [name, b] of Object.entries(this.buffers)) buffers[name] = b.slice();
    return { kind: this.kind, step: this.t, hyper: copyHyper(this.hyper), buffers };
  }

  loadState(s: OptimizerState): void {
    const where = `Cannot load optimizer state into ${this.kind}`;
    if (s === null || typeof s !== 'object') throw new TypeError(`${where}: expected an object`);
    if (s.kind !== this.kind) throw new TypeError(`${where}: the state is for "${s.kind}"`);
    if (!Number.isInteger(s.step) || s.step < 0) {
      throw new RangeError(`${where}: step must be an integer >= 0, got ${s.step}`);
    }
    const hyper = withDefaults(this.kind, this.defaults, s.hyper ?? {});
    this.validate(hyper);
    const given = s.buffers ?? {};
    const names = this.bufferNames(hyper);
    let buffers: Record<string, FloatArray> = {};
    let size = -1;
    if (Object.keys(given).length > 0 || (s.step > 0 && names.length > 0)) {
      for (const name of Object.keys(given)) {
        if (!names.includes(name)) {
          throw new TypeError(`${where}: unexpected buffer "${name}" (expected: ${names.join(', ') || 'none'})`);
        }
      }
      for (const name of names) {
        const b = given[name];
        if (b === undefined) throw new TypeError(`${where}: missing buffer "${name}"`);
        if (!(b instanceof Float32Array || b instanceof Float64Array)) {
          throw new TypeError(`${where}: buffer "${name}" must be a Float32Array or Float64Array`);
        }
        if (size >= 0 && b.length !== size) {
          throw new RangeError(`${where}: buffer "${name}" has ${b.length} elements but "${names[0]}" has ${size}`);
        }
        size = b.length;
        buffers[name] = b.slice();
      }
      if (this.size >= 0 && size >= 0 && size !== this.size) {
        throw new RangeError(`${where}: its buffers have ${size} elements but the parameters have ${this.size}`);
      }
    } else {
      buffers = {};
    }
    this.hyper = hyper;
    this.t = s.step;
    this.buffers = buffers;
    this.size = size;
  }

  private allocate(params: FloatArray): void {
    this.size = params.length;
    this.buffers = {};
    for (const name of this.bufferNames(this.hyper)) {
      this.buffers[name] = allocFloat(dtypeOf(params), params.length);
    }
    this.initBuffers();
  }
}
