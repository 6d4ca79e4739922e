import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import type { Optimizer, OptimizerState } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

type Options = Record<string, unknown>;

/** Builders by name; options are checked at run time (unknown names and bad values throw). */
const OPTIMIZERS: Record<string, (options: Options) => Optimizer> = {
  sgd: (o) => new SGD(o),
  adagrad: (o) => new Adagrad(o),
  rmsprop: (o) => new RMSprop(o),
  adadelta: (o) => new Adadelta(o),
  adam: (o) => new Adam(o),
  adamw: (o) => new AdamW(o),
};

export const OPTIMIZER_NAMES: readonly string[] = Object.keys(OPTIMIZERS);

/**
 * An optimizer from a name (case-insensitive: "adam", "AdamW", "SGD") and PyTorch-named
 * options, e.g. `createOptimizer('sgd', { lr: 0.1, momentum: 0.9, nesterov: true })`.
 */
export function createOptimizer(name: string, options: Options = {}): Optimizer {
  const key = String(name).toLowerCase();
  const build = Object.hasOwn(OPTIMIZERS, key) ? OPTIMIZERS[key] : undefined;
  if (build === undefined) {
    throw new RangeError(`Unknown optimizer "${name}"; valid names: ${OPTIMIZER_NAMES.join(', ')}`);
  }
  return build(options);
}

/** Rebuilds an optimizer from a saved state (kind, hyperparameters and buffers). */
export function optimizerFromState(s: OptimizerState): Optimizer {
  const opt = createOptimizer(s.kind, s.hyper);
  opt.loadState(s);
  return opt;
}
