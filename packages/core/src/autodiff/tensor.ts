import { allocFloat, allocFloatEmpty, dtypeOf, sizeOf, type DType, type FloatArray } from '../dtype.js';

/**
 * A node of the computation graph: the inputs of the op that made a tensor and the
 * vector-Jacobian product that pushes the output's gradient into theirs (accumulating, as
 * micrograd does, so a tensor used twice receives both contributions).
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: () => void;
}

let gradEnabled = true;

/** Runs `fn` without recording a graph (evaluation, optimizer steps), like torch.no_grad. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** A row-major n-dimensional array over a Float32Array (or Float64Array for gradchecks). */
export class Tensor {
  data: FloatArray;
  readonly shape: readonly number[];
  private gradStorage: FloatArray | null = null;
  /** Set by markGradZeroed: the gradient holds only zeros until it is written or replaced. */
  private gradZeroed = false;
  requiresGrad: boolean;
  node: GradNode | null = null;

  constructor(data: FloatArray, shape: readonly number[], requiresGrad = false) {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = shape;
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32', requiresGrad = false): Tensor {
    return new Tensor(allocFloat(dtype, sizeOf(shape)), shape, requiresGrad);
  }

  /** A tensor whose every element the caller writes before any is read (allocFloatEmpty). */
  static empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(allocFloatEmpty(dtype, sizeOf(shape)), shape);
  }

  static from(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32', requiresGrad = false): Tensor {
    const data = allocFloat(dtype, values.length);
    data.set(values);
    return new Tensor(data, shape, requiresGrad);
  }

  static scalar(value: number, dtype: DType = 'float32'): Tensor {
    return Tensor.from([value], [], dtype);
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    return this.data[0];
  }

  /** Gradient of the loss with respect to this tensor, same layout as `data`. */
  get grad(): FloatArray | null {
    return this.gradStorage;
  }

  /** Replacing the gradient buffer ends any markGradZeroed. */
  set grad(g: FloatArray | null) {
    this.gradStorage = g;
    this.gradZeroed = false;
  }

  /** Says the gradient now holds only zeros (Model.zeroGrad, after filling it). */
  markGradZeroed(): void {
    this.gradZeroed = true;
  }

  /**
   * True when the gradient holds only zeros: not allocated yet, or marked zero and not
   * written or replaced since. A kernel about to add into gradBuffer() may then store
   * instead (the WebAssembly matmul is spared copying C in).
   */
  gradIsZero(): boolean {
    return this.gradStorage === null || this.gradZeroed;
  }

  /** The gradient buffer, allocated (zeroed) on first use. Callers write into it. */
  gradBuffer(): FloatArray {
    this.gradZeroed = false;
    if (this.gradStorage === null) this.gradStorage = allocFloat(this.dtype, this.data.length);
    return this.gradStorage;
  }

  /**
   * Where a backward pass puts a contribution: the gradient buffer, and whether to add to
   * what it holds (false while it holds only zeros: the caller must then store every
   * element, so a first buffer is not even zeroed). One call, because gradIsZero() must be
   * read before gradBuffer() ends the zeros.
   */
  gradTarget(): { grad: FloatArray; add: boolean } {
    const add = !this.gradIsZero();
    if (this.gradStorage === null) this.gradStorage = allocFloatEmpty(this.dtype, this.data.length);
    return { grad: this.gradBuffer(), add };
  }

  /** Detached copy-free view: same data, no graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /**
   * Reverse-mode pass from this tensor. A scalar is seeded with 1; otherwise pass the
   * upstream gradient. Nodes run in reverse topological order (iterative DFS, inputs in
   * their fixed order so summation order is reproducible), then the graph is released.
   */
  backward(upstream?: FloatArray, hooks: BackwardHooks = {}): void {
    if (upstream === undefined) {
      if (this.size !== 1) throw new Error(`backward() without a gradient needs a scalar, got shape [${this.shape.join(', ')}]`);
      this.gradBuffer()[0] += 1;
    } else {
      if (upstream.length !== this.size) throw new Error(`backward(): gradient has ${upstream.length} elements, tensor has ${this.size}`);
      const g = this.gradBuffer();
      for (let i = 0; i < g.length; i++) g[i] += upstream[i];
    }
    const order = topologicalOrder(this);
    const onLeafReady = hooks.onLeafReady;
    // A leaf's gradient is final once the last node that reads it has run: count its readers.
    const pending = onLeafReady ? new Map<Tensor, number>() : null;
    if (pending) for (const t of order) for (const x of t.node!.inputs) if (x.requiresGrad && x.node === null) pending.set(x, (pending.get(x) ?? 0) + 1);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      if (t.grad !== null) t.node!.backward();
      if (pending) {
        for (const x of t.node!.inputs) {
          const left = pending.get(x);
          if (left === undefined) continue;
          if (left === 1) { pending.delete(x); onLeafReady!(x); } else pending.set(x, left - 1);
        }
      }
    }
    for (const t of order) {
      t.node = null;
      if (t !== this && !t.requiresGrad) t.grad = null;
    }
  }
}

export interface BackwardHooks {
  /**
   * Called once per leaf that requires a gradient (a parameter), as soon as every node that
   * reads it has run: its gradient is final while the pass goes on (DDP's bucket readiness).
   */
  onLeafReady?: (leaf: Tensor) => void;
}

/** Tensors with a grad node reachable from `root`, inputs before outputs. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1] = next + 1;
      const child = inputs[next];
      if (!visited.has(child) && child.node !== null) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      if (t.node !== null) order.push(t);
    }
  }
  return order;
}

/**
 * Attaches an op's vector-Jacobian product to its output when any input needs a gradient
 * and grad mode is on. The VJP reads `out.grad` and accumulates into its inputs' gradients.
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: () => void): Tensor {
  if (!gradEnabled) return out;
  let needed = false;
  for (const t of inputs) {
    if (t.requiresGrad || t.node !== null) { needed = true; break; }
  }
  if (needed) out.node = { op, inputs, backward };
  return out;
}

/** Whether the op should compute a gradient for input `t`. */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad || t.node !== null;
}
