/**
 * What the phi rewrite is equal to. On f(x) = ½ Σ a_i x_i² over 300 steps:
 *  1. With a constant lr, the parameters SGD({ nesterov: true }) produces are, at every step,
 *     those of PyTorch's nesterov=True (b = mu b + g; p -= lr (g + mu b)).
 *  2. For any lr sequence they are the lookahead φ_t = θ_t + mu v_t of seed 003's original
 *     Nesterov (v = mu v − lr ∇f(θ + mu v); θ += v), not θ_t itself.
 *  3. With a varying lr, 2 still holds but 1 does not.
 * Differences are measured relative to each step's size (float64 round-off only: < 1e-10).
 * The references below are written out in the test; they share no code with the optimizer.
 */
import { describe, expect, it } from 'vitest';
import { SGD } from './sgd.js';

const A = [0.05, 0.5, 4];
const X0 = [1, -2, 0.5];
const STEPS = 300;
const MU = 0.9;
const grad = (x: number, i: number): number => A[i] * x;

/** Iterates of our optimizer, phiOurs[t][i] after t + 1 steps. */
function ours(lrs: number[]): number[][] {
  const opt = new SGD({ lr: 1, momentum: MU, nesterov: true });
  const p = Float64Array.from(X0);
  const g = new Float64Array(p.length);
  return lrs.map((lr) => {
    for (let i = 0; i < p.length; i++) g[i] = grad(p[i], i);
    opt.step(p, g, lr);
    return Array.from(p);
  });
}

/** PyTorch's torch.optim.SGD(nesterov=True), dampening 0, buffer starting at 0. */
function pytorch(lrs: number[]): number[][] {
  const p = [...X0];
  const b = [0, 0, 0];
  return lrs.map((lr) => {
    for (let i = 0; i < p.length; i++) {
      const g = grad(p[i], i);
      b[i] = MU * b[i] + g;
      p[i] -= lr * (g + MU * b[i]);
    }
    return [...p];
  });
}

/** Seed 003's original form; returns θ_t and v_t after each step. */
function original(lrs: number[]): { theta: number[][]; v: number[][] } {
  const theta = [...X0];
  const v = [0, 0, 0];
  const out = { theta: [] as number[][], v: [] as number[][] };
  for (const lr of lrs) {
    for (let i = 0; i < theta.length; i++) {
      v[i] = MU * v[i] - lr * grad(theta[i] + MU * v[i], i);
      theta[i] += v[i];
    }
    out.theta.push([...theta]);
    out.v.push([...v]);
  }
  return out;
}

/** Largest difference between two runs, each step's measured relative to that step's size in b. */
function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, t) => {
    const size = Math.max(...b[t].map(Math.abs));
    row.forEach((x, i) => (m = Math.max(m, Math.abs(x - b[t][i]) / size)));
  });
  return m;
}

describe('Nesterov in the phi form', () => {
  const constant = Array.from({ length: STEPS }, () => 0.1);
  const varying = Array.from({ length: STEPS }, (_, t) => 0.1 * (1 + Math.cos((Math.PI * t) / STEPS)) / 2 + 0.01);

  it('with a constant lr, gives the same iterates as PyTorch nesterov=True at every step', () => {
    const phi = ours(constant);
    expect(maxDiff(phi, pytorch(constant))).toBeLessThan(1e-10);
    // A real run: it moves (x0[2] = 0.5 oscillates through zero) without collapsing to 0.
    expect(Math.min(...phi.map((x) => x[2]))).toBeLessThan(-0.01);
  });

  it("its parameters are the lookahead φ = θ + mu·v of seed 003's original form, not θ", () => {
    for (const lrs of [constant, varying]) {
      const phi = ours(lrs);
      const { theta, v } = original(lrs);
      const lookahead = theta.map((row, t) => row.map((x, i) => x + MU * v[t][i]));
      expect(maxDiff(phi, lookahead)).toBeLessThan(1e-10);
      expect(maxDiff(phi, theta)).toBeGreaterThan(1e-2);
    }
  });

  it('with a varying lr the phi form (lr inside v) and PyTorch (lr outside b) differ', () => {
    expect(maxDiff(ours(varying), pytorch(varying))).toBeGreaterThan(1e-4);
  });
});
