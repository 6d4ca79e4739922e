import type { Hyper, HyperValue } from './optimizer.js';

/**
 * Hyperparameter plumbing shared by the optimizers: user options merged over defaults, with
 * unknown names rejected (a typo in a JSON config is an error, never a silent default), and
 * range checks worded like PyTorch's ("Invalid learning rate: -1").
 */
export function withDefaults<H extends Hyper>(
  kind: string,
  defaults: H,
  options: Readonly<Record<string, unknown>>,
): H {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${kind}: options must be an object, got ${JSON.stringify(options)}`);
  }
  const valid = Object.keys(defaults);
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) {
      throw new TypeError(`Unknown ${kind} option "${key}"; valid options: ${valid.join(', ')}`);
    }
  }
  const out: Record<string, HyperValue> = {};
  for (const key of valid) {
    const d = defaults[key];
    const v = options[key] ?? d;
    if (Array.isArray(d)) {
      if (!Array.isArray(v) || v.length !== d.length || !v.every((x) => typeof x === 'number')) {
        throw new TypeError(`Invalid ${key} value: ${JSON.stringify(v)} (expected ${d.length} numbers)`);
      }
      out[key] = [...(v as number[])];
    } else {
      if (typeof v !== typeof d) {
        throw new TypeError(`Invalid ${key} value: ${JSON.stringify(v)} (expected a ${typeof d})`);
      }
      out[key] = v as HyperValue;
    }
  }
  return out as H;
}

/** A copy of a hyperparameter record (arrays copied too), safe to hand out or serialise. */
export function copyHyper<H extends Hyper>(h: H): H {
  const out: Record<string, HyperValue> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? [...v] : v;
  return out as H;
}

export function checkLr(lr: number): void {
  if (!(lr >= 0 && lr < Infinity)) {
    throw new RangeError(`Invalid learning rate: ${lr} (expected a finite number >= 0)`);
  }
}

/** `label` reads like PyTorch's: "momentum value", "epsilon value", "weightDecay value". */
export function checkNonNegative(label: string, v: number): void {
  if (!(v >= 0 && v < Infinity)) {
    throw new RangeError(`Invalid ${label}: ${v} (expected a finite number >= 0)`);
  }
}

/** 0 <= v < 1, or 0 <= v <= 1 when `closed`. */
export function checkUnit(label: string, v: number, closed = false): void {
  if (!(v >= 0 && (closed ? v <= 1 : v < 1))) {
    throw new RangeError(`Invalid ${label}: ${v} (expected 0 <= value ${closed ? '<=' : '<'} 1)`);
  }
}

export function checkBetas(betas: readonly number[]): void {
  betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) {
      throw new RangeError(`Invalid beta parameter at index ${i}: ${b} (expected 0 <= beta < 1)`);
    }
  });
}
