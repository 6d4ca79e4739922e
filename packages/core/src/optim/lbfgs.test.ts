import { describe, expect, it } from 'vitest';
import type { FloatArray } from '../dtype.js';
import { lbfgs, type Objective } from './lbfgs.js';

/** Rosenbrock: (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1). */
const rosenbrock: Objective = (p, g) => {
  const [x, y] = [p[0], p[1]];
  g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
  g[1] = 200 * (y - x * x);
  return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
};

/**
 * ½ (x − c)ᵀ Q (x − c) with Q = R D R, R = I − 2uuᵀ/uᵀu a reflection and D spanning 1..10⁴
 * (condition number 10⁴), so no axis is special. Minimum 0 at c.
 */
const N = 10;
const D = Array.from({ length: N }, (_, i) => 10 ** ((4 * i) / (N - 1)));
const C = Array.from({ length: N }, (_, i) => i - 3);
const U = Array.from({ length: N }, (_, i) => 1 + i);
const reflect = (v: number[]): number[] => {
  const k = (2 * v.reduce((s, vi, i) => s + vi * U[i], 0)) / U.reduce((s, ui) => s + ui * ui, 0);
  return v.map((vi, i) => vi - k * U[i]);
};
const quadratic: Objective = (x, g) => {
  const r = Array.from(x, (xi, i) => xi - C[i]);
  const qr = reflect(reflect(r).map((v, i) => D[i] * v));
  qr.forEach((v, i) => (g[i] = v));
  return 0.5 * r.reduce((s, ri, i) => s + ri * qr[i], 0);
};

/** Gradient descent with a fixed step; the number of iterations until max|g| <= tol (or cap). */
function gradientDescent(f: Objective, x0: FloatArray, lr: number, tol: number, cap: number): number {
  const x = x0.slice();
  const g = new Float64Array(x.length);
  for (let it = 0; it < cap; it++) {
    f(x, g);
    if (Math.max(...Array.from(g, Math.abs)) <= tol) return it;
    for (let i = 0; i < x.length; i++) x[i] -= lr * g[i];
  }
  return cap;
}

describe('L-BFGS (seed 003: full-batch, deterministic)', () => {
  it('minimises Rosenbrock from (−1.2, 1) to tight tolerance, far faster than gradient descent', () => {
    const x0 = Float64Array.from([-1.2, 1]);
    const res = lbfgs(rosenbrock, x0, { gradTol: 1e-10 });
    expect(res.converged).toBe(true);
    expect(res.reason).toBe('gradient');
    expect(Math.abs(res.x[0] - 1)).toBeLessThan(1e-9);
    expect(Math.abs(res.x[1] - 1)).toBeLessThan(1e-9);
    expect(res.loss).toBeLessThan(1e-18);
    expect(res.iterations).toBeLessThan(100);
    expect(Array.from(x0)).toEqual([-1.2, 1]);
    // The largest stable fixed step is about 2/λmax(H) ≈ 2/1000 near the minimum.
    const gd = gradientDescent(rosenbrock, x0, 1.5e-3, 1e-10, 100 * res.iterations);
    expect(gd).toBe(100 * res.iterations);
  });

  it('minimises an ill-conditioned quadratic (κ = 10⁴) in a small fraction of gradient-descent iterations', () => {
    const x0 = new Float64Array(N).fill(5);
    const res = lbfgs(quadratic, x0, { gradTol: 1e-9 });
    expect(res.converged).toBe(true);
    for (let i = 0; i < N; i++) expect(Math.abs(res.x[i] - C[i])).toBeLessThan(1e-9);
    expect(res.iterations).toBeLessThan(300); // scipy's L-BFGS-B (m = 10, Wolfe line search) takes 209
    // With H0 = (s·y / y·y) I the unit step is almost always accepted: few backtracks.
    expect(res.evaluations).toBeLessThan(1.2 * res.iterations);
    // Gradient descent with the best fixed step 2/(λmin + λmax) needs about κ/2 · ln(1/tol)
    // steps (~10⁵ here): after 100 times the L-BFGS iteration count it has not converged.
    const gd = gradientDescent(quadratic, x0, 2 / (1 + 1e4), 1e-9, 100 * res.iterations);
    expect(gd).toBe(100 * res.iterations);
  });

  it('works with a float32 start vector and hands float32 vectors to f', () => {
    let seen = '';
    const res = lbfgs((x, g) => {
      seen = x.constructor.name;
      return rosenbrock(x, g);
    }, Float32Array.from([-1.2, 1]), { gradTol: 1e-3 });
    expect(seen).toBe('Float32Array');
    expect(res.x).toBeInstanceOf(Float32Array);
    expect(res.converged).toBe(true);
    expect(Math.abs(res.x[0] - 1)).toBeLessThan(1e-2);
  });

  it('reports max-iterations and line-search failures as not converged', () => {
    const capped = lbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIterations: 3 });
    expect(capped).toMatchObject({ converged: false, reason: 'max-iterations', iterations: 3 });
    // A gradient that points uphill: no step decreases f.
    const liar = lbfgs((x, g) => ((g[0] = -1), x[0] * x[0] + 1), Float64Array.from([2]));
    expect(liar).toMatchObject({ converged: false, reason: 'line-search', iterations: 0 });
  });

  it('rejects bad options and a non-finite start', () => {
    const x0 = Float64Array.from([0, 0]);
    expect(() => lbfgs(rosenbrock, x0, { history: 0 })).toThrow('Invalid L-BFGS history: 0 (expected an integer >= 1)');
    expect(() => lbfgs(rosenbrock, x0, { c1: 1 })).toThrow('Invalid L-BFGS c1: 1');
    expect(() => lbfgs(rosenbrock, x0, { backtrack: 0 })).toThrow('Invalid L-BFGS backtrack: 0');
    expect(() => lbfgs(() => NaN, x0)).toThrow('L-BFGS: the objective is not finite at x0 (NaN)');
  });
});
