import { kernels } from '@flotilla/core';

export interface MatmulBenchOptions {
  /** Square sizes n (M = N = K = n). Default 128, 256, 512, 1024. */
  sizes?: number[];
  /** Timed seconds per case, after warm-up; at least 3 timed calls are made. Default 0.5. */
  minSeconds?: number;
}

export interface MatmulBenchResult {
  n: number;
  transA: boolean;
  transB: boolean;
  /** 2·n³ flops over the best call's time. */
  gflops: number;
  /** Best call's wall time in milliseconds. */
  ms: number;
  /** 2·n³ flops over the median call's time (lower when other processes share the cores). */
  medianGflops: number;
  /** Number of timed calls. */
  reps: number;
}

export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** What the shape is, e.g. "forward X·Wᵀ, 784→512". */
  label?: string;
}

export interface MatmulShapeResult extends MatmulShape {
  gflops: number;
  ms: number;
  medianGflops: number;
  reps: number;
}

/** The four transpose cases; training uses (false, true), (false, false) and (true, false). */
const FLAGS: ReadonlyArray<readonly [boolean, boolean]> = [
  [false, false], [false, true], [true, false], [true, true],
];

/**
 * Matmul shapes of training an MLP with batch 256 (784→512→256→10): for a linear layer
 * Y = X·Wᵀ with X batch×in and W out×in, the forward pass is X·Wᵀ, the input gradient dY·W
 * and the weight gradient dYᵀ·X.
 */
export const TRAINING_SHAPES: readonly MatmulShape[] = [
  { m: 256, n: 512, k: 784, transA: false, transB: true, label: 'forward X·Wᵀ 784→512' },
  { m: 256, n: 784, k: 512, transA: false, transB: false, label: 'input grad dY·W 512→784' },
  { m: 512, n: 784, k: 256, transA: true, transB: false, label: 'weight grad dYᵀ·X 784→512' },
  { m: 256, n: 256, k: 512, transA: false, transB: true, label: 'forward X·Wᵀ 512→256' },
  { m: 256, n: 512, k: 256, transA: false, transB: false, label: 'input grad dY·W 256→512' },
  { m: 256, n: 512, k: 256, transA: true, transB: false, label: 'weight grad dYᵀ·X 512→256' },
  { m: 256, n: 10, k: 256, transA: false, transB: true, label: 'forward X·Wᵀ 256→10' },
  { m: 256, n: 256, k: 10, transA: false, transB: false, label: 'input grad dY·W 10→256' },
  { m: 10, n: 256, k: 256, transA: true, transB: false, label: 'weight grad dYᵀ·X 256→10' },
];

function checkOptions(minSeconds: number): void {
  if (!Number.isFinite(minSeconds) || minSeconds < 0) {
    throw new RangeError(`matmul bench: minSeconds must be a finite number ≥ 0, got ${minSeconds}`);
  }
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`matmul bench: ${name} must be a positive integer, got ${v}`);
  }
}

/** Deterministic values in [-1, 1) so runs are comparable. */
function filled(length: number, seed: number): Float32Array {
  const x = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2147483648 - 1;
  }
  return x;
}

function timeMatmul(shape: MatmulShape, minSeconds: number): { ms: number; medianMs: number; reps: number } {
  const { m, n, k, transA, transB } = shape;
  const a = filled(m * k, 1);
  const b = filled(k * n, 2);
  const c = new Float32Array(m * n);
  const matmul = kernels.matmul;
  // Warm-up: let the JIT optimise the kernel for this shape (≥ 3 calls, ≥ 50 ms or a
  // tenth of the timed budget).
  const warmEnd = performance.now() + Math.max(50, 100 * minSeconds);
  let warm = 0;
  while (warm < 3 || performance.now() < warmEnd) {
    matmul(a, b, c, m, n, k, transA, transB, false);
    warm++;
  }
  const times: number[] = [];
  const deadline = performance.now() + 1000 * minSeconds;
  while (times.length < 3 || performance.now() < deadline) {
    const t0 = performance.now();
    matmul(a, b, c, m, n, k, transA, transB, false);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { ms: times[0], medianMs: times[times.length >> 1], reps: times.length };
}

const gflopsOf = (m: number, n: number, k: number, ms: number): number => (2 * m * n * k) / (ms * 1e6);

/**
 * Single-threaded GFLOP/s of the active `kernels.matmul` on float32 square matrices, for
 * each size and each of the four transpose cases (2·n³ flops per call).
 */
export function benchMatmul(options: MatmulBenchOptions = {}): MatmulBenchResult[] {
  const sizes = options.sizes ?? [128, 256, 512, 1024];
  const minSeconds = options.minSeconds ?? 0.5;
  checkOptions(minSeconds);
  for (const size of sizes) checkDim('size', size);
  const results: MatmulBenchResult[] = [];
  for (const n of sizes) {
    for (const [transA, transB] of FLAGS) {
      const t = timeMatmul({ m: n, n, k: n, transA, transB }, minSeconds);
      results.push({
        n, transA, transB,
        gflops: gflopsOf(n, n, n, t.ms),
        ms: t.ms,
        medianGflops: gflopsOf(n, n, n, t.medianMs),
        reps: t.reps,
      });
    }
  }
  return results;
}

/** Like `benchMatmul` for arbitrary shapes; defaults to the MLP training shapes. */
export function benchMatmulShapes(
  shapes: readonly MatmulShape[] = TRAINING_SHAPES,
  options: { minSeconds?: number } = {},
): MatmulShapeResult[] {
  const minSeconds = options.minSeconds ?? 0.5;
  checkOptions(minSeconds);
  for (const s of shapes) {
    checkDim('m', s.m);
    checkDim('n', s.n);
    checkDim('k', s.k);
  }
  return shapes.map((s) => {
    const t = timeMatmul(s, minSeconds);
    return {
      ...s,
      gflops: gflopsOf(s.m, s.n, s.k, t.ms),
      ms: t.ms,
      medianGflops: gflopsOf(s.m, s.n, s.k, t.medianMs),
      reps: t.reps,
    };
  });
}
