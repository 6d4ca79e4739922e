import { Tensor } from '../autodiff/tensor.js';
import { allocFloat, type DType, type FloatArray } from '../dtype.js';
import type { TensorLayoutEntry } from '../io/checkpoint.js';
import { initialise } from '../nn/init.js';
import type { Sequential } from '../nn/layers/containers.js';
import { qualify, type ForwardContext, type Module, type ParameterSlot } from '../nn/module.js';
import { CounterRng, RngPurpose } from '../rng.js';
import { buildSequential } from './registry.js';
import { validateModelSpec, type ModelSpec } from './spec.js';


export interface BuildOptions {
  /** Seeds the initial parameters (keyed by parameter index and element). */
  seed?: number;
  dtype?: DType;
  /**
   * Flat buffers to live in instead of fresh ones, e.g. views of SharedArrayBuffers that a
   * worker's threads share. Given `params` are taken as they are (not initialised).
   */
  storage?: ModelStorage;
}

/** The three flat buffers of a model (DESIGN 1). */
export interface ModelStorage {
  params?: FloatArray;
  grads?: FloatArray;
  buffers?: FloatArray;
}

/**
 * A model built from a spec, with all parameters in one flat buffer, their gradients in a
 * second of the same layout and non-trainable state in a third (DESIGN 1). Each parameter
 * tensor is a view into the flat buffers, so all-reduce, optimizer steps, EMA and
 * checkpoints are loops over `params`/`grads`/`buffers`.
 */
export class Model {
  params!: FloatArray;
  grads!: FloatArray;
  buffers!: FloatArray;
  readonly paramLayout: TensorLayoutEntry[] = [];
  readonly bufferLayout: TensorLayoutEntry[] = [];
  readonly outputShape: number[];
  /** Modules by id (depth-first order), e.g. to find BatchNorm layers. */
  readonly modules: Module[] = [];
  private readonly paramSlots: ParameterSlot[] = [];
  private readonly bufferSlots: Array<{ tensor: Tensor; fill: number }> = [];

  constructor(readonly spec: ModelSpec, readonly root: Sequential, outputShape: number[], options: BuildOptions = {}) {
    const dtype = options.dtype ?? 'float32';
    this.outputShape = outputShape;
    const paramNames: string[] = [];
    const bufferNames: string[] = [];
    for (const [path, module] of root.walk()) {
      module.id = this.modules.length;
      this.modules.push(module);
      for (const [name, slot] of module.params) { paramNames.push(qualify(path, name)); this.paramSlots.push(slot); }
      for (const [name, b] of module.buffers) { bufferNames.push(qualify(path, name)); this.bufferSlots.push(b); }
    }
    const paramCount = layOut(paramNames, this.paramSlots.map((s) => s.tensor), this.paramLayout);
    const bufferCount = layOut(bufferNames, this.bufferSlots.map((b) => b.tensor), this.bufferLayout);
    const given = options.storage ?? {};
    this.bindStorage({
      params: given.params ?? allocFloat(dtype, paramCount),
      grads: given.grads ?? allocFloat(dtype, paramCount),
      buffers: given.buffers ?? allocFloat(dtype, bufferCount),
    });
    if (!given.buffers) this.bufferSlots.forEach(({ tensor, fill }) => tensor.data.fill(fill));
    if (!given.params) this.initialise(options.seed ?? 0);
  }

  /**
   * Re-points parameter, gradient and/or buffer tensors at new flat buffers of the same
   * layout (no copy), e.g. a thread's slot of a shared gradient buffer.
   */
  bindStorage(storage: ModelStorage): void {
    const check = (what: string, data: FloatArray | undefined, layout: TensorLayoutEntry[]): void => {
      const need = layout.length === 0 ? 0 : layout[layout.length - 1].offset + layout[layout.length - 1].size;
      if (data !== undefined && data.length !== need) throw new Error(`bindStorage: ${what} has ${data.length} elements, the model needs ${need}`);
    };
    check('params', storage.params, this.paramLayout);
    check('grads', storage.grads, this.paramLayout);
    check('buffers', storage.buffers, this.bufferLayout);
    if (storage.params) this.params = storage.params;
    if (storage.grads) this.grads = storage.grads;
    if (storage.buffers) this.buffers = storage.buffers;
    this.paramSlots.forEach(({ tensor }, i) => {
      const { offset, size } = this.paramLayout[i];
      tensor.data = this.params.subarray(offset, offset + size);
      tensor.grad = this.grads.subarray(offset, offset + size);
    });
    this.bufferSlots.forEach(({ tensor }, i) => {
      const { offset, size } = this.bufferLayout[i];
      tensor.data = this.buffers.subarray(offset, offset + size);
    });
  }

  /** Parameter i draws from stream (init, i), so the same seed gives the same weights anywhere. */
  private initialise(seed: number): void {
    const rng = new CounterRng(seed);
    this.paramSlots.forEach((slot, index) => {
      const data = slot.tensor.data;
      if (typeof slot.init === 'number') { data.fill(slot.init); return; }
      const stream = [RngPurpose.init, index] as const;
      initialise(slot.init, data, slot.fanIn, slot.fanOut, {
        uniform: (i) => rng.uniform(stream, i),
        normal: (i) => rng.normal(stream, i),
      });
    });
  }

  /** Parameter tensor i, in layout order (`paramLayout[i]` says where it lives). */
  paramTensor(i: number): Tensor {
    return this.paramSlots[i].tensor;
  }

  get dtype(): DType {
    return this.params instanceof Float64Array ? 'float64' : 'float32';
  }

  get parameterCount(): number {
    return this.params.length;
  }

  /** Runs the model on a batch [N, ...input]. */
  forward(x: Tensor, ctx: ForwardContext): Tensor {
    return this.root.forward(x, ctx);
  }

  train(on = true): this {
    this.root.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    this.grads.fill(0);
    for (const { tensor } of this.paramSlots) tensor.markGradZeroed();
  }

  /** Per-sample input shape with a batch axis of `n` in front. */
  batchShape(n: number): number[] {
    return [n, ...this.spec.input];
  }
}

function layOut(names: string[], tensors: Tensor[], layout: TensorLayoutEntry[]): number {
  let offset = 0;
  tensors.forEach((tensor, i) => {
    layout.push({ name: names[i], shape: [...tensor.shape], offset, size: tensor.size });
    offset += tensor.size;
  });
  return offset;
}

/** Builds a model from a JSON spec; errors name the layer index and the problem. */
export function buildModel(spec: unknown, options: BuildOptions = {}): Model {
  const valid = validateModelSpec(spec);
  const { module, output } = buildSequential(valid.layers, valid.input, 'layers');
  return new Model(valid, module, output, options);
}
