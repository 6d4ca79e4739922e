import { Tensor } from '../autodiff/tensor.js';
import type { BatchNormReducer } from '../ops/fused/batchnorm.js';
import type { InitName } from './init.js';

/**
 * What a forward pass needs beyond its input, so that randomness depends on the sample and
 * the step, never on which worker or thread runs it (DESIGN 5).
 */
export interface ForwardContext {
  /** Run seed: the key of every random draw. */
  seed: number;
  /** Global optimizer step: the stream of this step's dropout masks. */
  step: number;
  /** Position of this shard's first row in the global batch. */
  rowOffset: number;
  /** SyncBN hook: the reducer for BatchNorm module `id`, or null for shard-local statistics. */
  batchNormReducer?: (id: number) => BatchNormReducer | null;
}

export function defaultContext(overrides: Partial<ForwardContext> = {}): ForwardContext {
  return { seed: 0, step: 0, rowOffset: 0, ...overrides };
}

/** A trainable tensor and how to initialise it. */
export interface ParameterSlot {
  tensor: Tensor;
  /** An initialiser, or a constant to fill with. */
  init: InitName | number;
  fanIn: number;
  fanOut: number;
}

/**
 * Base of every layer: named parameters, named buffers (non-trainable state such as running
 * statistics), named children, and a train/eval switch. Parameters are created with
 * placeholder storage; the model then rebinds them to views of one flat buffer (DESIGN 1).
 */
export abstract class Module {
  training = true;
  /** Unique within a model (depth-first order), keys per-layer random streams. */
  id = 0;
  readonly params = new Map<string, ParameterSlot>();
  readonly buffers = new Map<string, { tensor: Tensor; fill: number }>();
  readonly children: Array<[string, Module]> = [];

  abstract readonly type: string;
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;

  protected addParameter(name: string, shape: number[], init: InitName | number, fanIn: number, fanOut: number): Tensor {
    const tensor = Tensor.zeros(shape, 'float32', true);
    this.params.set(name, { tensor, init, fanIn, fanOut });
    return tensor;
  }

  protected addBuffer(name: string, shape: number[], fill: number): Tensor {
    const tensor = Tensor.zeros(shape);
    tensor.data.fill(fill);
    this.buffers.set(name, { tensor, fill });
    return tensor;
  }

  protected addChild<M extends Module>(name: string, child: M): M {
    this.children.push([name, child]);
    return child;
  }

  train(on = true): this {
    this.training = on;
    for (const [, child] of this.children) child.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Depth-first walk with PyTorch-style dotted names ("0.weight", "2.fn.1.bias"). */
  *walk(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.children) yield* child.walk(prefix === '' ? name : `${prefix}.${name}`);
  }
}

/** Joins a module path and a tensor name. */
export function qualify(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
