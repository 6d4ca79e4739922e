import type { FloatArray } from '../dtype.js';

/**
 * Parameter initialisers (seed 001 and seed 004): each fills `out` given the layer's fan-in
 * and fan-out and a source of standard uniforms/normals (keyed by parameter and element, so
 * every replica draws the same numbers).
 */
export interface RandomSource {
  uniform(index: number): number;
  normal(index: number): number;
}

export type InitName =
  | 'zeros' | 'ones'
  | 'xavier_uniform' | 'xavier_normal'
  | 'kaiming_normal' | 'kaiming_uniform'
  | 'linear_default' | 'normal';

export const INIT_NAMES: readonly InitName[] = [
  'zeros', 'ones', 'xavier_uniform', 'xavier_normal', 'kaiming_normal', 'kaiming_uniform', 'linear_default', 'normal',
];

function fillUniform(out: FloatArray, bound: number, rng: RandomSource): void {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform(i) - 1) * bound;
}

function fillNormal(out: FloatArray, std: number, rng: RandomSource): void {
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal(i);
}

/**
 * - xavier_uniform: U(±√(6/(fan_in + fan_out))); xavier_normal: N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010).
 * - kaiming_normal: N(0, 2/fan_in), the ReLU gain (He et al. 2015); kaiming_uniform: U(±√(6/fan_in)).
 * - linear_default: U(±1/√fan_in), what PyTorch's nn.Linear uses for weight and bias
 *   (kaiming_uniform with a = √5 gives exactly this bound).
 * - normal: N(0, 1), PyTorch's nn.Embedding default.
 */
export function initialise(name: InitName, out: FloatArray, fanIn: number, fanOut: number, rng: RandomSource): void {
  switch (name) {
    case 'zeros': out.fill(0); return;
    case 'ones': out.fill(1); return;
    case 'xavier_uniform': fillUniform(out, Math.sqrt(6 / (fanIn + fanOut)), rng); return;
    case 'xavier_normal': fillNormal(out, Math.sqrt(2 / (fanIn + fanOut)), rng); return;
    case 'kaiming_normal': fillNormal(out, Math.sqrt(2 / fanIn), rng); return;
    case 'kaiming_uniform': fillUniform(out, Math.sqrt(6 / fanIn), rng); return;
    case 'linear_default': fillUniform(out, 1 / Math.sqrt(fanIn), rng); return;
    case 'normal': fillNormal(out, 1, rng); return;
  }
}

export function parseInitName(value: unknown, what: string): InitName {
  if (typeof value !== 'string' || !(INIT_NAMES as readonly string[]).includes(value)) {
    throw new Error(`${what}: unknown initialiser ${JSON.stringify(value)} (expected one of ${INIT_NAMES.join(', ')})`);
  }
  return value as InitName;
}
