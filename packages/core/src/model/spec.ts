/**
 * Models are data (DESIGN 2): a JSON spec that every process turns into an identical
 * replica. `input` is the per-sample shape (no batch axis); `inputKind: "index"` marks
 * integer inputs for an embedding (stored as exact integers in a float tensor).
 *
 *   {"input": [784], "layers": [{"type": "linear", "out": 512}, {"type": "batchnorm"},
 *    {"type": "relu"}, {"type": "dropout", "p": 0.1}, ...]}
 */
export interface LayerSpec {
  type: string;
  [option: string]: unknown;
}

export interface ModelSpec {
  input: number[];
  inputKind?: 'float' | 'index';
  layers: LayerSpec[];
}

/**
 * The default model of `flotilla train`: 784-512-256-10 with BatchNorm, ReLU and dropout.
 * A Linear that feeds a BatchNorm has no bias: BatchNorm subtracts the batch mean, so that
 * bias has a gradient of exactly zero in exact arithmetic and only rounding noise in floats,
 * which Adam's normalisation would turn into a random walk (β plays its role instead).
 */
export const DEFAULT_MNIST_SPEC: ModelSpec = {
  input: [784],
  layers: [
    { type: 'linear', out: 512, bias: false },
    { type: 'batchnorm' },
    { type: 'relu' },
    { type: 'dropout', p: 0.1 },
    { type: 'linear', out: 256, bias: false },
    { type: 'batchnorm' },
    { type: 'relu' },
    { type: 'dropout', p: 0.1 },
    { type: 'linear', out: 10 },
  ],
};

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Checks the outer structure of a spec (layers are checked as they are built). */
export function validateModelSpec(value: unknown): ModelSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('Model spec: expected an object with "input" and "layers"');
  }
  const spec = value as Record<string, unknown>;
  if (!Array.isArray(spec.input) || spec.input.length === 0 || !spec.input.every(isPositiveInt)) {
    throw new Error(`Model spec: "input" must be a non-empty array of positive integers (the per-sample shape), got ${JSON.stringify(spec.input)}`);
  }
  if (spec.inputKind !== undefined && spec.inputKind !== 'float' && spec.inputKind !== 'index') {
    throw new Error(`Model spec: "inputKind" must be "float" or "index", got ${JSON.stringify(spec.inputKind)}`);
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
    throw new Error('Model spec: "layers" must be a non-empty array');
  }
  spec.layers.forEach((layer: unknown, i: number) => {
    if (typeof layer !== 'object' || layer === null || typeof (layer as LayerSpec).type !== 'string') {
      throw new Error(`Model spec: layers[${i}] must be an object with a string "type"`);
    }
  });
  return spec as unknown as ModelSpec;
}
