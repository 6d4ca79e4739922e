import { parseInitName } from '../nn/init.js';
import { Activation, ACTIVATIONS, isActivation } from '../nn/layers/activation.js';
import { BatchNorm } from '../nn/layers/batchnorm.js';
import { Highway, Residual, Sequential } from '../nn/layers/containers.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Embedding } from '../nn/layers/embedding.js';
import { LayerNorm } from '../nn/layers/layernorm.js';
import { Linear } from '../nn/layers/linear.js';
import { Flatten, FlattenConsecutive } from '../nn/layers/reshaping.js';
import type { Module } from '../nn/module.js';
import type { LayerSpec } from './spec.js';

/** A builder gets the layer's spec and per-sample input shape; it returns the module and output shape. */
export type LayerBuilder = (spec: LayerSpec, input: readonly number[], where: string) => { module: Module; output: number[] };

/** Thrown with the layer's position ("layers[3] (batchnorm)") in front of the problem. */
export class SpecError extends Error {}

function fail(where: string, spec: LayerSpec, problem: string): never {
  throw new SpecError(`${where} (${spec.type}): ${problem}`);
}

function positiveInt(spec: LayerSpec, key: string, where: string, fallback?: number): number {
  const v = spec[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(where, spec, `"${key}" must be a positive integer, got ${JSON.stringify(spec[key])}`);
  return v;
}

function numberIn(spec: LayerSpec, key: string, where: string, fallback: number, ok: (v: number) => boolean, range: string): number {
  const v = spec[key] ?? fallback;
  if (typeof v !== 'number' || !ok(v)) fail(where, spec, `"${key}" must be ${range}, got ${JSON.stringify(spec[key])}`);
  return v;
}

const last = (shape: readonly number[]): number => shape[shape.length - 1];
const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Builds a list of layer specs into a Sequential, threading the shape through. */
export function buildSequential(specs: readonly LayerSpec[], input: readonly number[], where: string): { module: Sequential; output: number[] } {
  let shape = [...input];
  const layers = specs.map((spec, i) => {
    const at = `${where}[${i}]`;
    const builder = LAYER_BUILDERS[spec.type];
    if (builder === undefined) fail(at, spec, `unknown layer type (expected one of ${Object.keys(LAYER_BUILDERS).join(', ')})`);
    const { module, output } = builder(spec, shape, at);
    shape = output;
    return module;
  });
  return { module: new Sequential(layers), output: shape };
}

function activationBuilder(spec: LayerSpec, input: readonly number[]): { module: Module; output: number[] } {
  return { module: new Activation(spec.type as keyof typeof ACTIVATIONS), output: [...input] };
}

/** The layer registry: spec `type` → builder. */
export const LAYER_BUILDERS: Record<string, LayerBuilder> = {
  linear(spec, input, where) {
    const out = positiveInt(spec, 'out', where);
    const bias = spec.bias ?? true;
    if (typeof bias !== 'boolean') fail(where, spec, `"bias" must be true or false, got ${JSON.stringify(bias)}`);
    const init = spec.init === undefined ? 'linear_default' : parseInitName(spec.init, `${where} (linear)`);
    return { module: new Linear(last(input), out, bias, init), output: [...input.slice(0, -1), out] };
  },
  batchnorm(spec, input, where) {
    if (input.length > 2) fail(where, spec, `expects per-sample shape [C] or [T, C], got ${fmt(input)}`);
    const eps = numberIn(spec, 'eps', where, 1e-5, (v) => v > 0, 'a positive number');
    const momentum = numberIn(spec, 'momentum', where, 0.1, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    return { module: new BatchNorm(last(input), eps, momentum), output: [...input] };
  },
  layernorm(spec, input, where) {
    const eps = numberIn(spec, 'eps', where, 1e-5, (v) => v > 0, 'a positive number');
    return { module: new LayerNorm(last(input), eps), output: [...input] };
  },
  dropout(spec, input, where) {
    const p = numberIn(spec, 'p', where, 0.5, (v) => v >= 0 && v < 1, 'in [0, 1)');
    return { module: new Dropout(p), output: [...input] };
  },
  relu: activationBuilder,
  gelu: activationBuilder,
  tanh: activationBuilder,
  sigmoid: activationBuilder,
  embedding(spec, input, where) {
    const vocab = positiveInt(spec, 'vocab', where);
    const dim = positiveInt(spec, 'dim', where);
    return { module: new Embedding(vocab, dim), output: [...input, dim] };
  },
  flatten(_spec, input) {
    return { module: new Flatten(), output: [input.reduce((a, b) => a * b, 1)] };
  },
  flatten_consecutive(spec, input, where) {
    const n = positiveInt(spec, 'n', where);
    if (input.length !== 2 || input[0] % n !== 0) fail(where, spec, `needs per-sample shape [T, C] with T divisible by ${n}, got ${fmt(input)}`);
    const steps = input[0] / n;
    const width = input[1] * n;
    return { module: new FlattenConsecutive(n), output: steps === 1 ? [width] : [steps, width] };
  },
  residual(spec, input, where) {
    if (!Array.isArray(spec.layers) || spec.layers.length === 0) fail(where, spec, '"layers" must be a non-empty array');
    const inner = buildSequential(spec.layers as LayerSpec[], input, `${where}.layers`);
    if (fmt(inner.output) !== fmt(input)) fail(where, spec, `its layers map ${fmt(input)} to ${fmt(inner.output)}; f(x) + x needs the same shape`);
    return { module: new Residual(inner.module), output: [...input] };
  },
  highway(spec, input, where) {
    const activation = spec.activation ?? 'relu';
    if (typeof activation !== 'string' || !isActivation(activation)) {
      fail(where, spec, `"activation" must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${JSON.stringify(activation)}`);
    }
    const gateBias = numberIn(spec, 'gate_bias', where, -1, Number.isFinite, 'a finite number');
    return { module: new Highway(last(input), activation, gateBias), output: [...input] };
  },
};
