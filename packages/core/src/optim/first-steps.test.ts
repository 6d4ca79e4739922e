/**
 * The first three steps of every optimizer on f(x) = ½ Σ a_i x_i² (gradient a_i x_i), against
 * the seeds' recurrences expanded by hand below, one scalar line per step, never calling the
 * code under test. A few coordinates are also checked against numbers worked out on paper.
 */
import { describe, expect, it } from 'vitest';
import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import type { Optimizer } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

const A = [1, 4, 0.25];
const X0 = [1, -2, 3];

/** Three steps on the quadratic; returns iterates[step][coordinate]. */
function run(opt: Optimizer, lrs: (number | undefined)[] = [undefined, undefined, undefined]): number[][] {
  const x = Float64Array.from(X0);
  const g = new Float64Array(x.length);
  return lrs.map((lr) => {
    for (let i = 0; i < x.length; i++) g[i] = A[i] * x[i];
    opt.step(x, g, lr);
    return Array.from(x);
  });
}

/** `expected(a, x0)` gives [x1, x2, x3] for one coordinate. */
function expectSteps(got: number[][], expected: (a: number, x0: number) => number[]): void {
  A.forEach((a, i) => {
    const want = expected(a, X0[i]);
    for (let t = 0; t < 3; t++) {
      expect(Math.abs(got[t][i] - want[t]), `step ${t + 1}, coordinate ${i}`).toBeLessThan(1e-12 * (1 + Math.abs(want[t])));
    }
  });
}

describe('SGD (seed 003: x += -lr * dx; seed 002 weight decay)', () => {
  it('plain', () => {
    const lr = 0.1;
    const got = run(new SGD({ lr }));
    expectSteps(got, (a, x0) => {
      const x1 = x0 - lr * a * x0;
      const x2 = x1 - lr * a * x1;
      const x3 = x2 - lr * a * x2;
      return [x1, x2, x3];
    });
    // a = 4, x0 = -2: -2 + 0.8 = -1.2, then ×(1 − 0.4) each step.
    expect(got.map((x) => x[1])).toEqual([-1.2, -0.72, -0.432].map((v) => expect.closeTo(v, 14)));
  });

  it('with weight decay (W ← W(1 − lr·wd) − lr·∇J)', () => {
    const lr = 0.1;
    const wd = 0.5;
    expectSteps(run(new SGD({ lr, weightDecay: wd })), (a, x0) => {
      const x1 = x0 * (1 - lr * wd) - lr * a * x0;
      const x2 = x1 * (1 - lr * wd) - lr * a * x1;
      const x3 = x2 * (1 - lr * wd) - lr * a * x2;
      return [x1, x2, x3];
    });
  });

  it('lr passed to step overrides the constructor lr for that step only', () => {
    const got = run(new SGD({ lr: 0.1 }), [0.5, undefined, 0.2]);
    expectSteps(got, (a, x0) => {
      const x1 = x0 - 0.5 * a * x0;
      const x2 = x1 - 0.1 * a * x1;
      const x3 = x2 - 0.2 * a * x2;
      return [x1, x2, x3];
    });
  });
});

describe('SGD with momentum', () => {
  it('dampening 0 is seed 003: v = mu*v - lr*dx; x += v', () => {
    const lr = 0.1;
    const mu = 0.9;
    const got = run(new SGD({ lr, momentum: mu }));
    expectSteps(got, (a, x0) => {
      const v1 = -lr * a * x0;
      const x1 = x0 + v1;
      const v2 = mu * v1 - lr * a * x1;
      const x2 = x1 + v2;
      const v3 = mu * v2 - lr * a * x2;
      const x3 = x2 + v3;
      return [x1, x2, x3];
    });
    // a = 4, x0 = -2: v = 0.8, x = -1.2; v = 0.72 + 0.48 = 1.2, x = 0; v = 1.08, x = 1.08.
    expect(got.map((x) => x[1])).toEqual([-1.2, 0, 1.08].map((v) => expect.closeTo(v, 12)));
  });

  it('dampening = momentum is seed 002: M = γM + (1 − γ)g, W −= ηM, M0 = 0', () => {
    const eta = 0.2;
    const gamma = 0.8;
    expectSteps(run(new SGD({ lr: eta, momentum: gamma, dampening: gamma })), (a, x0) => {
      const m1 = (1 - gamma) * a * x0;
      const x1 = x0 - eta * m1;
      const m2 = gamma * m1 + (1 - gamma) * a * x1;
      const x2 = x1 - eta * m2;
      const m3 = gamma * m2 + (1 - gamma) * a * x2;
      const x3 = x2 - eta * m3;
      return [x1, x2, x3];
    });
  });

  it('with dampening and weight decay', () => {
    const [lr, mu, d, wd] = [0.1, 0.5, 0.25, 0.3];
    expectSteps(run(new SGD({ lr, momentum: mu, dampening: d, weightDecay: wd })), (a, x0) => {
      const b1 = (1 - d) * (a * x0 + wd * x0);
      const x1 = x0 - lr * b1;
      const b2 = mu * b1 + (1 - d) * (a * x1 + wd * x1);
      const x2 = x1 - lr * b2;
      const b3 = mu * b2 + (1 - d) * (a * x2 + wd * x2);
      const x3 = x2 - lr * b3;
      return [x1, x2, x3];
    });
  });
});

describe('Nesterov (seed 003 phi rewrite)', () => {
  it('v_prev = v; v = mu*v - lr*dx; x += -mu*v_prev + (1+mu)*v, with weight decay', () => {
    const [lr, mu, wd] = [0.1, 0.9, 0.2];
    expectSteps(run(new SGD({ lr, momentum: mu, nesterov: true, weightDecay: wd })), (a, p0) => {
      const v1 = -lr * (a * p0 + wd * p0);
      const p1 = p0 + (1 + mu) * v1;
      const v2 = mu * v1 - lr * (a * p1 + wd * p1);
      const p2 = p1 - mu * v1 + (1 + mu) * v2;
      const v3 = mu * v2 - lr * (a * p2 + wd * p2);
      const p3 = p2 - mu * v2 + (1 + mu) * v3;
      return [p1, p2, p3];
    });
  });
});

describe('AdaGrad (seed 003: cache += dx**2; x -= lr * dx / (sqrt(cache) + eps))', () => {
  it('seed form with eps 1e-7', () => {
    const [lr, eps] = [0.1, 1e-7];
    const got = run(new Adagrad({ lr, eps }));
    expectSteps(got, (a, x0) => {
      const c1 = (a * x0) ** 2;
      const x1 = x0 - (lr * a * x0) / (Math.sqrt(c1) + eps);
      const c2 = c1 + (a * x1) ** 2;
      const x2 = x1 - (lr * a * x1) / (Math.sqrt(c2) + eps);
      const c3 = c2 + (a * x2) ** 2;
      const x3 = x2 - (lr * a * x2) / (Math.sqrt(c3) + eps);
      return [x1, x2, x3];
    });
    // The first step moves every coordinate by lr against the sign of its gradient.
    expect(got[0][1]).toBeCloseTo(-1.9, 7);
  });

  it('with weight decay, lrDecay and an initial accumulator', () => {
    const [lr, eps, wd, decay, init] = [0.1, 1e-10, 0.1, 0.5, 0.3];
    expectSteps(run(new Adagrad({ lr, eps, weightDecay: wd, lrDecay: decay, initialAccumulatorValue: init })), (a, x0) => {
      const g1 = a * x0 + wd * x0;
      const c1 = init + g1 ** 2;
      const x1 = x0 - ((lr / 1) * g1) / (Math.sqrt(c1) + eps);
      const g2 = a * x1 + wd * x1;
      const c2 = c1 + g2 ** 2;
      const x2 = x1 - ((lr / (1 + decay)) * g2) / (Math.sqrt(c2) + eps);
      const g3 = a * x2 + wd * x2;
      const c3 = c2 + g3 ** 2;
      const x3 = x2 - ((lr / (1 + 2 * decay)) * g3) / (Math.sqrt(c3) + eps);
      return [x1, x2, x3];
    });
  });
});

describe('RMSProp (seed 003: cache = decay*cache + (1-decay)*dx**2)', () => {
  it('seed form', () => {
    const [lr, alpha, eps] = [0.01, 0.9, 1e-7];
    expectSteps(run(new RMSprop({ lr, alpha, eps })), (a, x0) => {
      const c1 = (1 - alpha) * (a * x0) ** 2;
      const x1 = x0 - (lr * a * x0) / (Math.sqrt(c1) + eps);
      const c2 = alpha * c1 + (1 - alpha) * (a * x1) ** 2;
      const x2 = x1 - (lr * a * x1) / (Math.sqrt(c2) + eps);
      const c3 = alpha * c2 + (1 - alpha) * (a * x2) ** 2;
      const x3 = x2 - (lr * a * x2) / (Math.sqrt(c3) + eps);
      return [x1, x2, x3];
    });
  });

  it('centered, with momentum and weight decay (PyTorch options)', () => {
    const [lr, alpha, eps, mu, wd] = [0.01, 0.9, 1e-8, 0.5, 0.1];
    expectSteps(run(new RMSprop({ lr, alpha, eps, momentum: mu, centered: true, weightDecay: wd })), (a, x0) => {
      const g1 = (a + wd) * x0;
      const c1 = (1 - alpha) * g1 ** 2;
      const m1 = (1 - alpha) * g1;
      const b1 = g1 / (Math.sqrt(c1 - m1 ** 2) + eps);
      const x1 = x0 - lr * b1;
      const g2 = (a + wd) * x1;
      const c2 = alpha * c1 + (1 - alpha) * g2 ** 2;
      const m2 = alpha * m1 + (1 - alpha) * g2;
      const b2 = mu * b1 + g2 / (Math.sqrt(c2 - m2 ** 2) + eps);
      const x2 = x1 - lr * b2;
      const g3 = (a + wd) * x2;
      const c3 = alpha * c2 + (1 - alpha) * g3 ** 2;
      const m3 = alpha * m2 + (1 - alpha) * g3;
      const b3 = mu * b2 + g3 / (Math.sqrt(c3 - m3 ** 2) + eps);
      const x3 = x2 - lr * b3;
      return [x1, x2, x3];
    });
  });
});

describe('Adadelta', () => {
  it("seed 002's form: G = γG + (1−γ)g², W −= η g / √(G + ε)", () => {
    const [eta, gamma, eps] = [0.05, 0.9, 1e-6];
    const got = run(new Adadelta({ lr: eta, rho: gamma, eps }));
    expectSteps(got, (a, x0) => {
      const G1 = (1 - gamma) * (a * x0) ** 2;
      const x1 = x0 - (eta * a * x0) / Math.sqrt(G1 + eps);
      const G2 = gamma * G1 + (1 - gamma) * (a * x1) ** 2;
      const x2 = x1 - (eta * a * x1) / Math.sqrt(G2 + eps);
      const G3 = gamma * G2 + (1 - gamma) * (a * x2) ** 2;
      const x3 = x2 - (eta * a * x2) / Math.sqrt(G3 + eps);
      return [x1, x2, x3];
    });
    // a = 1, x0 = 1: G = 0.1, x1 = 1 − 0.05/√0.100001.
    expect(got[0][0]).toBeCloseTo(1 - 0.05 / Math.sqrt(0.100001), 14);
  });

  it('seed form with weight decay', () => {
    const [eta, gamma, eps, wd] = [0.05, 0.5, 1e-6, 0.2];
    expectSteps(run(new Adadelta({ lr: eta, rho: gamma, eps, weightDecay: wd })), (a, x0) => {
      const g1 = a * x0 + wd * x0;
      const G1 = (1 - gamma) * g1 ** 2;
      const x1 = x0 - (eta * g1) / Math.sqrt(G1 + eps);
      const g2 = a * x1 + wd * x1;
      const G2 = gamma * G1 + (1 - gamma) * g2 ** 2;
      const x2 = x1 - (eta * g2) / Math.sqrt(G2 + eps);
      const g3 = a * x2 + wd * x2;
      const G3 = gamma * G2 + (1 - gamma) * g3 ** 2;
      const x3 = x2 - (eta * g3) / Math.sqrt(G3 + eps);
      return [x1, x2, x3];
    });
  });

  it("Zeiler's original: Δ = √(E[Δ²]+ε)/√(E[g²]+ε)·g, E[Δ²] accumulated, default lr 1", () => {
    const [rho, eps] = [0.9, 1e-6];
    expectSteps(run(new Adadelta({ form: 'zeiler', rho, eps })), (a, x0) => {
      const Eg1 = (1 - rho) * (a * x0) ** 2;
      const d1 = (Math.sqrt(0 + eps) / Math.sqrt(Eg1 + eps)) * a * x0;
      const Ed1 = (1 - rho) * d1 ** 2;
      const x1 = x0 - d1;
      const Eg2 = rho * Eg1 + (1 - rho) * (a * x1) ** 2;
      const d2 = (Math.sqrt(Ed1 + eps) / Math.sqrt(Eg2 + eps)) * a * x1;
      const Ed2 = rho * Ed1 + (1 - rho) * d2 ** 2;
      const x2 = x1 - d2;
      const Eg3 = rho * Eg2 + (1 - rho) * (a * x2) ** 2;
      const d3 = (Math.sqrt(Ed2 + eps) / Math.sqrt(Eg3 + eps)) * a * x2;
      const x3 = x2 - d3;
      return [x1, x2, x3];
    });
  });

  it("Zeiler's form with lr and weight decay", () => {
    const [lr, rho, eps, wd] = [0.5, 0.8, 1e-4, 0.1];
    expectSteps(run(new Adadelta({ form: 'zeiler', lr, rho, eps, weightDecay: wd })), (a, x0) => {
      const g1 = (a + wd) * x0;
      const Eg1 = (1 - rho) * g1 ** 2;
      const d1 = (Math.sqrt(eps) / Math.sqrt(Eg1 + eps)) * g1;
      const Ed1 = (1 - rho) * d1 ** 2;
      const x1 = x0 - lr * d1;
      const g2 = (a + wd) * x1;
      const Eg2 = rho * Eg1 + (1 - rho) * g2 ** 2;
      const d2 = (Math.sqrt(Ed1 + eps) / Math.sqrt(Eg2 + eps)) * g2;
      const Ed2 = rho * Ed1 + (1 - rho) * d2 ** 2;
      const x2 = x1 - lr * d2;
      const g3 = (a + wd) * x2;
      const Eg3 = rho * Eg2 + (1 - rho) * g3 ** 2;
      const d3 = (Math.sqrt(Ed2 + eps) / Math.sqrt(Eg3 + eps)) * g3;
      const x3 = x2 - lr * d3;
      return [x1, x2, x3];
    });
  });
});

describe('Adam (seed 003 with bias correction)', () => {
  // m = b1*m + (1-b1)*dx; v = b2*v + (1-b2)*dx**2; mb = m/(1-b1**t); vb = v/(1-b2**t)
  // x += -lr * mb / (sqrt(vb) + eps)
  const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 1e-8];

  it('default L2-free form', () => {
    const got = run(new Adam({ lr, betas: [b1, b2], eps }));
    expectSteps(got, (a, x0) => {
      const m1 = (1 - b1) * a * x0;
      const v1 = (1 - b2) * (a * x0) ** 2;
      const x1 = x0 - (lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
      const m2 = b1 * m1 + (1 - b1) * a * x1;
      const v2 = b2 * v1 + (1 - b2) * (a * x1) ** 2;
      const x2 = x1 - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
      const m3 = b1 * m2 + (1 - b1) * a * x2;
      const v3 = b2 * v2 + (1 - b2) * (a * x2) ** 2;
      const x3 = x2 - (lr * (m3 / (1 - b1 ** 3))) / (Math.sqrt(v3 / (1 - b2 ** 3)) + eps);
      return [x1, x2, x3];
    });
    // Bias correction makes the first step exactly lr·g/(|g| + eps): about lr per coordinate.
    expect(got[0]).toEqual([0.9, -1.9, 2.9].map((v) => expect.closeTo(v, 8)));
  });

  it('with L2 weight decay (g += wd·x)', () => {
    const wd = 0.5;
    expectSteps(run(new Adam({ lr, betas: [b1, b2], eps, weightDecay: wd })), (a, x0) => {
      const g1 = a * x0 + wd * x0;
      const m1 = (1 - b1) * g1;
      const v1 = (1 - b2) * g1 ** 2;
      const x1 = x0 - (lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
      const g2 = a * x1 + wd * x1;
      const m2 = b1 * m1 + (1 - b1) * g2;
      const v2 = b2 * v1 + (1 - b2) * g2 ** 2;
      const x2 = x1 - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
      const g3 = a * x2 + wd * x2;
      const m3 = b1 * m2 + (1 - b1) * g3;
      const v3 = b2 * v2 + (1 - b2) * g3 ** 2;
      const x3 = x2 - (lr * (m3 / (1 - b1 ** 3))) / (Math.sqrt(v3 / (1 - b2 ** 3)) + eps);
      return [x1, x2, x3];
    });
  });

  it('AdamW: decoupled decay x ← x(1 − lr·wd) − lr·m̂/(√v̂ + eps), gradient untouched', () => {
    const wd = 0.5;
    expectSteps(run(new AdamW({ lr, betas: [b1, b2], eps, weightDecay: wd })), (a, x0) => {
      const m1 = (1 - b1) * a * x0;
      const v1 = (1 - b2) * (a * x0) ** 2;
      const x1 = x0 * (1 - lr * wd) - (lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
      const m2 = b1 * m1 + (1 - b1) * a * x1;
      const v2 = b2 * v1 + (1 - b2) * (a * x1) ** 2;
      const x2 = x1 * (1 - lr * wd) - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
      const m3 = b1 * m2 + (1 - b1) * a * x2;
      const v3 = b2 * v2 + (1 - b2) * (a * x2) ** 2;
      const x3 = x2 * (1 - lr * wd) - (lr * (m3 / (1 - b1 ** 3))) / (Math.sqrt(v3 / (1 - b2 ** 3)) + eps);
      return [x1, x2, x3];
    });
  });

  it('AdamW with weightDecay 0 equals Adam; with its default 0.01 it does not', () => {
    expect(run(new AdamW({ lr, weightDecay: 0 }))).toEqual(run(new Adam({ lr })));
    expect(run(new AdamW({ lr }))[2][0]).not.toBeCloseTo(run(new Adam({ lr }))[2][0], 6);
  });

  it('scheduled lr per step, in float32', () => {
    const opt = new Adam({ lr: 1 });
    const x = Float32Array.from(X0);
    const g = new Float32Array(3);
    const lrs = [0.1, 0.05, 0.025];
    const got = lrs.map((l) => {
      for (let i = 0; i < 3; i++) g[i] = A[i] * x[i];
      opt.step(x, g, l);
      return Array.from(x);
    });
    const [a, x0] = [A[1], X0[1]];
    const m1 = (1 - b1) * a * x0;
    const v1 = (1 - b2) * (a * x0) ** 2;
    const x1 = x0 - (0.1 * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps);
    const m2 = b1 * m1 + (1 - b1) * a * x1;
    const v2 = b2 * v1 + (1 - b2) * (a * x1) ** 2;
    const x2 = x1 - (0.05 * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps);
    const m3 = b1 * m2 + (1 - b1) * a * x2;
    const v3 = b2 * v2 + (1 - b2) * (a * x2) ** 2;
    const x3 = x2 - (0.025 * (m3 / (1 - b1 ** 3))) / (Math.sqrt(v3 / (1 - b2 ** 3)) + eps);
    expect(got.map((p) => p[1])).toEqual([x1, x2, x3].map((v) => expect.closeTo(v, 6)));
    expect(opt.state().buffers.exp_avg).toBeInstanceOf(Float32Array);
  });

  it('float32 parameters take the float32 chain of operations, not float64 rounded once', () => {
    // An oracle that rounds through a Float32Array after every operation, in the documented
    // order: g' = g + wd·p; m = β1·m + (1 − β1)·g'; v = β2·v + ((1 − β2)·g')·g';
    // p = p − (stepSize·m)/(√v/√(1 − β2^t) + eps). It must match bit for bit; float64
    // arithmetic rounded once at the end must not (so the bound test below is not all).
    const r = new Float32Array(1);
    const F = (x: number): number => { r[0] = x; return r[0]; };
    const n = 4099, lr = 1e-2, wd = 0.1;
    let seed = 9;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    const p = Float32Array.from({ length: n }, () => rand()), g = Float32Array.from({ length: n }, () => rand() * 1e-2);
    const p0 = Float64Array.from(p);
    new Adam({ lr, weightDecay: wd }).step(p, g);
    const [b1, b2, c1, c2] = [F(0.9), F(0.999), F(1 - 0.9), F(1 - 0.999)];
    const [ss, bc, e, l2] = [F(lr / (1 - 0.9)), F(Math.sqrt(1 - 0.999)), F(1e-8), F(wd)];
    let differFrom64 = 0;
    for (let i = 0; i < n; i++) {
      const gi = F(g[i] + F(l2 * p0[i]));
      const m = F(F(b1 * 0) + F(c1 * gi)), v = F(F(b2 * 0) + F(F(c2 * gi) * gi));
      expect(p[i], `p[${i}]`).toBe(F(p0[i] - F(F(ss * m) / F(F(F(Math.sqrt(v)) / bc) + e))));
      const g64 = g[i] + wd * p0[i], m64 = 0.1 * g64, v64 = 0.001 * g64 * g64;
      if (p[i] !== F(p0[i] - (lr / 0.1) * m64 / (Math.sqrt(v64) / Math.sqrt(0.001) + 1e-8))) differFrom64++;
    }
    expect(differFrom64).toBeGreaterThan(n / 100);
  });

  it('float32 parameters take float32 arithmetic within a few roundings of float64 Adam', () => {
    // The float32 path (WebAssembly lanes above 256 elements) rounds every operation, as
    // torch.optim.Adam does for float32 tensors. One step from float32 state, against the
    // same step in float64: each quantity is off by a few float32 roundings (u = 2^-24) of
    // the magnitudes it is made of (the rounded constants β1, 1 − β1, wd, ... count too; g'
    // carries 3 with weight decay, g'² 6, v 8), never by a lost term (~10%).
    const n = 4099, u = 2 ** -24;
    let seed = 5;
    const rand = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    for (const [wd, Opt] of [[0, Adam], [0.1, Adam], [0.1, AdamW]] as const) {
      const p32 = Float32Array.from({ length: n }, () => rand());
      const g32 = Float32Array.from({ length: n }, () => rand() * 1e-2);
      const opt32 = new Opt({ lr: 1e-2, weightDecay: wd });
      opt32.step(p32, g32.map(() => rand() * 1e-2)); // a first step so m and v are not zero
      const before = opt32.state().buffers;
      const m0 = Float64Array.from(before.exp_avg), v0 = Float64Array.from(before.exp_avg_sq), p0 = Float64Array.from(p32);
      opt32.step(p32, g32);
      const state = opt32.state().buffers;
      const decoupled = Opt === AdamW;
      const [stepSize, bc2] = [1e-2 / (1 - 0.9 ** 2), Math.sqrt(1 - 0.999 ** 2)];
      for (let i = 0; i < n; i++) {
        const g = g32[i] + (decoupled ? 0 : wd * p0[i]);
        const m = 0.9 * m0[i] + 0.1 * g, v = 0.999 * v0[i] + 0.001 * g * g;
        const delta = (stepSize * m) / (Math.sqrt(v) / bc2 + 1e-8);
        const p = p0[i] * (decoupled ? 1 - 1e-2 * wd : 1) - delta;
        expect(Math.abs(state.exp_avg[i] - m), `m[${i}]`).toBeLessThanOrEqual(6 * u * (0.9 * Math.abs(m0[i]) + 0.1 * Math.abs(g)) + 1e-45);
        expect(Math.abs(state.exp_avg_sq[i] - v), `v[${i}]`).toBeLessThanOrEqual(10 * u * v + 1e-45);
        expect(Math.abs(p32[i] - p), `p[${i}]`).toBeLessThanOrEqual(16 * u * (Math.abs(p0[i]) + Math.abs(delta)));
      }
    }
  });
});
