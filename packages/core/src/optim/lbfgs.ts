import { allocFloat, dtypeOf, type FloatArray } from '../dtype.js';

/** Returns f(x) and writes ∇f(x) into `grad`. */
export type Objective = (x: FloatArray, grad: FloatArray) => number;

export interface LbfgsOptions {
  /** m, the number of (s, y) pairs kept. Default 10. */
  history?: number;
  /** Default 1000. */
  maxIterations?: number;
  /** Converged when max_i |∂f/∂x_i| <= gradTol. Default 1e-6. */
  gradTol?: number;
  /** Armijo constant: accept step t when f(x + t d) <= f(x) + c1 t ∇f·d. Default 1e-4. */
  c1?: number;
  /** Factor the step shrinks by when Armijo fails. Default 0.5. */
  backtrack?: number;
  /** Trial steps per line search before giving up. Default 50. */
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: FloatArray;
  loss: number;
  /** max_i |∂f/∂x_i| at x. */
  gradInfNorm: number;
  /** Accepted steps. */
  iterations: number;
  /** Calls of f. */
  evaluations: number;
  converged: boolean;
  reason: 'gradient' | 'max-iterations' | 'line-search';
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function check(ok: boolean, name: string, value: number, expected: string): void {
  if (!ok) throw new RangeError(`Invalid L-BFGS ${name}: ${value} (expected ${expected})`);
}

/**
 * L-BFGS for full-batch, deterministic objectives (seed 003: quasi-Newton with a limited
 * memory, "usually works very well in full batch, deterministic mode"). The direction
 * d = −H g comes from the two-loop recursion over the last m pairs s = x_{k+1} − x_k,
 * y = g_{k+1} − g_k with H_0 = (s·y / y·y) I (Nocedal & Wright, Algorithm 7.4); the first
 * step is scaled to min(1, 1/‖g‖₁). A backtracking line search from t = 1 enforces Armijo's
 * sufficient decrease. Pairs with s·y <= 1e-10 y·y (curvature not positive) are skipped, and
 * a direction that is not downhill resets the memory to steepest descent. The objective
 * receives vectors of x0's dtype; the recursion runs in float64. `x0` is not modified.
 */
export function lbfgs(f: Objective, x0: FloatArray, options: LbfgsOptions = {}): LbfgsResult {
  const { history = 10, maxIterations = 1000, gradTol = 1e-6, c1 = 1e-4, backtrack = 0.5, maxLineSearch = 50 } = options;
  check(Number.isInteger(history) && history >= 1, 'history', history, 'an integer >= 1');
  check(Number.isInteger(maxIterations) && maxIterations >= 0, 'maxIterations', maxIterations, 'an integer >= 0');
  check(gradTol >= 0, 'gradTol', gradTol, 'a number >= 0');
  check(c1 > 0 && c1 < 1, 'c1', c1, '0 < c1 < 1');
  check(backtrack > 0 && backtrack < 1, 'backtrack', backtrack, '0 < backtrack < 1');
  check(Number.isInteger(maxLineSearch) && maxLineSearch >= 1, 'maxLineSearch', maxLineSearch, 'an integer >= 1');

  const n = x0.length;
  let x: FloatArray = x0.slice();
  let g = allocFloat(dtypeOf(x0), n);
  let xNew = allocFloat(dtypeOf(x0), n);
  let gNew = allocFloat(dtypeOf(x0), n);
  const d = new Float64Array(n);
  const S = Array.from({ length: history }, () => new Float64Array(n));
  const Y = Array.from({ length: history }, () => new Float64Array(n));
  const rho = new Float64Array(history);
  const alpha = new Float64Array(history);
  let stored = 0;
  let newest = history - 1;

  let loss = f(x, g);
  let evaluations = 1;
  let iterations = 0;
  if (!Number.isFinite(loss)) throw new RangeError(`L-BFGS: the objective is not finite at x0 (${loss})`);

  const gradInf = (): number => {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(g[i]));
    return m;
  };
  const finish = (reason: LbfgsResult['reason']): LbfgsResult => {
    const gInf = gradInf();
    return { x, loss, gradInfNorm: gInf, iterations, evaluations, converged: gInf <= gradTol, reason };
  };
  const steepest = (): void => {
    let l1 = 0;
    for (let i = 0; i < n; i++) l1 += Math.abs(g[i]);
    const scale = Math.min(1, 1 / l1);
    for (let i = 0; i < n; i++) d[i] = -scale * g[i];
  };

  for (;;) {
    if (gradInf() <= gradTol) return finish('gradient');
    if (iterations >= maxIterations) return finish('max-iterations');

    if (stored === 0) steepest();
    else {
      // Two-loop recursion: d = −H g.
      for (let i = 0; i < n; i++) d[i] = g[i];
      for (let j = 0; j < stored; j++) {
        const k = (newest - j + history) % history;
        alpha[k] = rho[k] * dot(S[k], d);
        for (let i = 0; i < n; i++) d[i] -= alpha[k] * Y[k][i];
      }
      const gamma = dot(S[newest], Y[newest]) / dot(Y[newest], Y[newest]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
      for (let j = stored - 1; j >= 0; j--) {
        const k = (newest - j + history) % history;
        const beta = rho[k] * dot(Y[k], d);
        for (let i = 0; i < n; i++) d[i] += (alpha[k] - beta) * S[k][i];
      }
      for (let i = 0; i < n; i++) d[i] = -d[i];
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      stored = 0;
      steepest();
      slope = dot(g, d);
    }

    // Backtracking line search (Armijo). A NaN loss fails the test and shrinks the step.
    let t = 1;
    let lossNew = NaN;
    let accepted = false;
    for (let ls = 0; ls < maxLineSearch && !accepted; ls++) {
      if (ls > 0) t *= backtrack;
      for (let i = 0; i < n; i++) xNew[i] = x[i] + t * d[i];
      lossNew = f(xNew, gNew);
      evaluations += 1;
      accepted = lossNew <= loss + c1 * t * slope;
    }
    if (!accepted) return finish('line-search');

    // Keep the pair (s, y) if its curvature s·y is positive enough.
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const yi = gNew[i] - g[i];
      sy += (xNew[i] - x[i]) * yi;
      yy += yi * yi;
    }
    if (sy > 1e-10 * yy) {
      newest = (newest + 1) % history;
      for (let i = 0; i < n; i++) {
        S[newest][i] = xNew[i] - x[i];
        Y[newest][i] = gNew[i] - g[i];
      }
      rho[newest] = 1 / sy;
      stored = Math.min(stored + 1, history);
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    loss = lossNew;
    iterations += 1;
  }
}
