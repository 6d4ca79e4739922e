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
}

/**
 * A model built from a spec, with all parameters in one flat buffer, their gradients in a
 * second of the same layout and non-trainable state in a third (DESIGN 1). Each parameter
 * tensor is a view into the flat buffers, so all-reduce, optimizer steps, EMA and
 * checkpoints are loops over `params`/`grads`/`buffers`.
 */
export class Model {
  readonly params: FloatArray;
  readonly grads: FloatArray;
  readonly buffers: FloatArray;
  readonly paramLayout: TensorLayoutEntry[] = [];
  readonly bufferLayout: TensorLayoutEntry[] = [];
  readonly outputShape: number[];
  /** Modules by id (depth-first order), e.g. to find BatchNorm layers. */
  readonly modules: Module[] = [];

  constructor(readonly spec: ModelSpec, readonly root: Sequential, outputShape: number[], options: BuildOptions = {}) {
    const dtype = options.dtype ?? 'float32';
    this.outputShape = outputShape;
    const paramSlots: Array<{ name: string; slot: ParameterSlot }> = [];
    const bufferSlots: Array<{ name: string; tensor: Tensor; fill: number }> = [];
    for (const [path, module] of root.walk()) {
      module.id = this.modules.length;
      this.modules.push(module);
      for (const [name, slot] of module.params) paramSlots.push({ name: qualify(path, name), slot });
      for (const [name, b] of module.buffers) bufferSlots.push({ name: qualify(path, name), ...b });
    }
    this.params = allocFloat(dtype, layOut(paramSlots.map((p) => ({ name: p.name, tensor: p.slot.tensor })), this.paramLayout));
    this.grads = allocFloat(dtype, this.params.length);
    this.buffers = allocFloat(dtype, layOut(bufferSlots, this.bufferLayout));
    paramSlots.forEach(({ slot }, i) => {
      const { offset, size } = this.paramLayout[i];
      slot.tensor.data = this.params.subarray(offset, offset + size);
      slot.tensor.grad = this.grads.subarray(offset, offset + size);
    });
    bufferSlots.forEach(({ tensor, fill }, i) => {
      const { offset, size } = this.bufferLayout[i];
      tensor.data = this.buffers.subarray(offset, offset + size);
      tensor.data.fill(fill);
    });
    this.initialise(options.seed ?? 0, paramSlots.map((p) => p.slot));
  }

  /** Parameter i draws from stream (init, i), so the same seed gives the same weights anywhere. */
  private initialise(seed: number, slots: ParameterSlot[]): void {
    const rng = new CounterRng(seed);
    slots.forEach((slot, index) => {
      const data = slot.tensor.data;
      if (typeof slot.init === 'number') { data.fill(slot.init); return; }
      const stream = [RngPurpose.init, index] as const;
      initialise(slot.init, data, slot.fanIn, slot.fanOut, {
        uniform: (i) => rng.uniform(stream, i),
        normal: (i) => rng.normal(stream, i),
      });
    });
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
  }

  /** Per-sample input shape with a batch axis of `n` in front. */
  batchShape(n: number): number[] {
    return [n, ...this.spec.input];
  }
}

function layOut(entries: Array<{ name: string; tensor: Tensor }>, layout: TensorLayoutEntry[]): number {
  let offset = 0;
  for (const { name, tensor } of entries) {
    layout.push({ name, shape: [...tensor.shape], offset, size: tensor.size });
    offset += tensor.size;
  }
  return offset;
}

/** Builds a model from a JSON spec; errors name the layer index and the problem. */
export function buildModel(spec: unknown, options: BuildOptions = {}): Model {
  const valid = validateModelSpec(spec);
  const { module, output } = buildSequential(valid.layers, valid.input, 'layers');
  return new Model(valid, module, output, options);
}
