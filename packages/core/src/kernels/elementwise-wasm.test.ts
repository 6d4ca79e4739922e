import { describe, expect, it } from 'vitest';
import { makeRandom } from '../../test/helpers.js';
import type { FloatArray } from '../dtype.js';
import { CounterRng, type Stream } from '../rng.js';
import {
  adamReference, batchNormBackwardDxReference, batchNormBackwardSumsReference, batchNormNormalizeReference, channelMomentsReference,
  keepMaskReference, mulAccumulateReference, mulReference, reluBackwardReference, reluReference, sumSquaresReference,
  tanhBackwardReference, tanhReference, accumulateReference, addNReference, axpbyReference, firstNonFiniteReference,
} from './elementwise-reference.js';
import {
  adamWasm, batchNormBackwardDxWasm, batchNormBackwardSumsWasm, batchNormNormalizeWasm, channelMomentsWasm, fillUniformWasm,
  keepMaskWasm, mulAccumulateWasm, mulWasm, reluBackwardWasm, reluWasm, sumSquaresWasm, wasmElementwiseAvailable, WASM_MIN_ELEMENTS,
  accumulateWasm, addNWasm, axpbyWasm, firstNonFiniteWasm, tanhBackwardWasm, tanhWasm,
} from './elementwise-wasm.js';
import { ELEMENTWISE_WASM, kernels } from './index.js';

/*
 * The WebAssembly SIMD elementwise kernels must be BIT-IDENTICAL to the TypeScript
 * references (not merely close): dropout masks are RNG streams, and distributed runs and
 * checkpoints are compared against single-process ones. Every comparison below is on the
 * bit patterns (NaN only has to stay NaN: its payload is unspecified in JS and WebAssembly).
 */

/** Index of the first element whose bits differ (NaN matches NaN), or -1. */
function firstBitDifference(a: FloatArray, b: FloatArray): number {
  if (a.length !== b.length) return 0;
  const bits = (x: FloatArray): Uint32Array | BigUint64Array =>
    x instanceof Float32Array ? new Uint32Array(x.buffer, x.byteOffset, x.length) : new BigUint64Array(x.buffer, x.byteOffset, x.length);
  const ab = bits(a), bb = bits(b);
  for (let i = 0; i < a.length; i++) {
    if (ab[i] !== bb[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

function expectBitIdentical(got: FloatArray, want: FloatArray, what: string): void {
  const i = firstBitDifference(got, want);
  expect(i, `${what}: element ${i} is ${got[i]}, reference ${want[i]}`).toBe(-1);
}

/**
 * A backward kernel's store mode (a first gradient, accumulate false) against adding into
 * zeros: bit for bit (+0 where the contribution is −0), in the reference and the
 * WebAssembly kernel alike, with targets full of NaN that a read would show.
 */
function expectStoreAsAddingIntoZeros(
  n: number, what: string,
  reference: (gx: Float32Array, accumulate: boolean) => void, wasm: (gx: Float32Array, accumulate: boolean) => void,
): void {
  const zeros = new Float32Array(n);
  reference(zeros, true);
  for (const [name, kernel] of [['reference', reference], ['wasm', wasm]] as const) {
    const stored = new Float32Array(n).fill(NaN);
    kernel(stored, false);
    expectBitIdentical(stored, zeros, `${what}, stored (${name})`);
  }
}

/** Gaussian-ish float32 data with a few special values sprinkled in. */
function data(n: number, rand: () => number, scale = 1, shift = 0, specials = true): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = shift + scale * (rand() + rand() + rand() - 1.5) * 2;
  if (specials && n > 8) {
    const put = [0, -0, 1e-40, -1e-40, 3e38, -3e38, 1, -1, Number.NaN, Infinity, -Infinity];
    for (const v of put) x[Math.floor(rand() * n)] = v;
  }
  return x;
}

/** [rows, c] shapes: odd channel counts (SIMD tails), one row, one channel, the model's, several 8192-element pieces with a short last one, rows wider than a piece. */
const SHAPES: Array<[number, number]> = [
  [128, 512], [128, 256], [37, 13], [1, 300], [300, 1], [17, 4], [5, 63], [64, 7], [3, 1000], [37, 700], [20000, 1], [2, 9001],
];

describe('WebAssembly SIMD elementwise kernels', () => {
  it('compile and instantiate here', () => {
    expect(wasmElementwiseAvailable()).toBe(true);
    for (const [name, fn] of Object.entries(ELEMENTWISE_WASM)) expect(kernels[name as keyof typeof kernels], name).toBe(fn);
  });

  it('the sum of squares matches the reference bit for bit, across pieces and tails', () => {
    const rand = makeRandom(11);
    // Sizes around the 8192-element pieces and every tail length; wide magnitudes so a
    // different summation order would show in the last bits.
    for (const n of [256, 257, 258, 259, 1001, 8191, 8192, 8193, 8195, 16386, 536842]) {
      const x = data(n, rand, 1, 0, false);
      for (let i = 0; i < n; i += 97) x[i] *= 1e4;
      const want = sumSquaresReference(x);
      expect(Object.is(sumSquaresWasm(x), want), `n=${n}`).toBe(true);
    }
    const special = data(1000, rand);
    expect(sumSquaresWasm(special)).toBe(sumSquaresReference(special)); // NaN stays NaN (toBe uses Object.is)
  });

  it('the sum of squares reference adds four interleaved float64 sums as (s0 + s1) + (s2 + s3)', () => {
    // s0 = 2^54 (float64 ulp 4 there), s2 = s3 = 1 + 1: (2^54 + 0) + (2 + 2) = 2^54 + 4 exactly.
    // In index order each 1 is absorbed (2^54 + 1 rounds to 2^54), and ((s0 + s1) + s2) + s3
    // ties twice to even: both would give 2^54.
    const x = new Float32Array([2 ** 27, 0, 1, 1, 0, 0, 1, 1]);
    expect(sumSquaresReference(x)).toBe(2 ** 54 + 4);
    let sequential = 0;
    for (const v of x) sequential += v * v;
    expect(sequential).toBe(2 ** 54);
  });

  it('firstNonFinite finds the first NaN or infinity wherever it is, and nothing in finite extremes', () => {
    const rand = makeRandom(13);
    for (const n of [256, 257, 271, 8191, 8192, 8209, 20000]) {
      const x = data(n, rand, 1, 0, false);
      x[3] = 3.4028234663852886e38; x[5] = -3.4028234663852886e38; x[7] = 1e-45; x[9] = -0; // finite extremes
      expect(firstNonFiniteWasm(x)).toBe(-1);
      expect(firstNonFiniteReference(x)).toBe(-1);
      // One bad value at several places (first lane, a tail, a later piece), then two.
      for (const at of [0, 1, 15, 16, n - 1, Math.floor(n / 2), Math.min(n - 1, 8195)]) {
        for (const bad of [Number.NaN, Infinity, -Infinity]) {
          const y = x.slice();
          y[at] = bad;
          expect(firstNonFiniteWasm(y), `n=${n} at ${at} ${bad}`).toBe(at);
          y[n - 1] = Number.NaN;
          expect(firstNonFiniteWasm(y), `n=${n} at ${at} and the end`).toBe(firstNonFiniteReference(y));
        }
      }
    }
  });

  it('addN sums its arrays in list order, each sum rounded to float32, as the definition does, across pieces and tails', () => {
    const rand = makeRandom(13);
    for (const n of [1, 255, 256, 259, 8191, 8192, 8193, 20001]) {
      for (const k of [1, 2, 3, 5]) {
        const xs = Array.from({ length: k }, () => data(n + 2, rand)); // longer than y: only y's length counts
        // The definition, independent of the kernels: ((x0 + x1) + x2) + …, rounded after each add.
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let s = xs[0][i];
          for (let j = 1; j < k; j++) s = Math.fround(s + xs[j][i]);
          want[i] = s;
        }
        const reference = new Float32Array(n).fill(NaN), wasm = new Float32Array(n).fill(NaN);
        addNReference(xs, reference);
        addNWasm(xs, wasm);
        expectBitIdentical(reference, want, `addN reference n=${n} k=${k}`);
        expectBitIdentical(wasm, want, `addN wasm n=${n} k=${k}`);
        // The sum may land in the first array itself (a worker's first thread slot).
        const first = xs[0].slice(0, n);
        addNWasm([first, ...xs.slice(1)], first);
        expectBitIdentical(first, want, `addN wasm into xs[0] n=${n} k=${k}`);
      }
    }
  });

  it('addN rounds differently by order, so the order it is given is the order it sums in', () => {
    // 1 + 2^-24 rounds back to 1, so (1 + 2^-24) + 2^-24 is 1 while 1 + (2^-24 + 2^-24) is 1 + 2^-23.
    const n = 1024;
    const big = new Float32Array(n).fill(1), tiny = new Float32Array(n).fill(2 ** -24);
    for (const addN of [addNReference, addNWasm]) {
      const y = new Float32Array(n);
      addN([big, tiny, tiny], y);
      expect(y[0]).toBe(1);
      expect(y[n - 1]).toBe(1);
      addN([tiny, tiny, big], y);
      expect(y[0]).toBe(1 + 2 ** -23);
      expect(y[n - 1]).toBe(1 + 2 ** -23);
    }
    expect(() => addNReference([], new Float32Array(4))).toThrow(/at least one/);
  });

  it('accumulate and axpby (gradient sums, the EMA) match the references bit for bit, across pieces and tails', () => {
    const rand = makeRandom(12);
    for (const n of [256, 257, 258, 259, 4099, 8192, 16387, 536586]) {
      const x = data(n + 3, rand), y0 = data(n, rand); // x longer than y: only y's length counts
      const yr = y0.slice(), yw = y0.slice();
      accumulateReference(x, yr, true);
      accumulateWasm(x, yw, true);
      expectBitIdentical(yw, yr, `accumulate n=${n}`);
      x[1] = -0; // stored as 0 + (−0) = +0, as adding into zeros does
      expectStoreAsAddingIntoZeros(n, `accumulate n=${n}`, (y, add) => accumulateReference(x, y, add), (y, add) => accumulateWasm(x, y, add));
      for (const [a, b] of [[0.999, 0.001], [0.5, 0.5], [1, -1]] as const) {
        const zr = y0.slice(), zw = y0.slice();
        axpbyReference(x, zr, a, b);
        axpbyWasm(x, zw, a, b);
        expectBitIdentical(zw, zr, `axpby(${a}, ${b}) n=${n}`);
      }
    }
  });

  it('relu and its backward match the references bit for bit, odd sizes included', () => {
    const rand = makeRandom(1);
    for (const n of [256, 257, 258, 259, 1000, 4099, 65536, 16389, 7, 255]) {
      const xs = data(n, rand);
      const want = new Float32Array(n), got = new Float32Array(n);
      reluReference(xs, want);
      reluWasm(xs, got);
      expectBitIdentical(got, want, `relu n=${n}`);
      const g = data(n, rand, 3);
      const gx0 = data(n, rand, 0.5);
      gx0[0] = -0; g[0] = -1; // −0 + (−1)·0: the sign of a zero survives only if g·d is done as in TS
      const gw = gx0.slice(), gg = gx0.slice();
      reluBackwardReference(xs, g, gw, true);
      reluBackwardWasm(xs, g, gg, true);
      expectBitIdentical(gg, gw, `reluBackward n=${n}`);
      expectStoreAsAddingIntoZeros(n, `reluBackward n=${n}`, (gx, add) => reluBackwardReference(xs, g, gx, add), (gx, add) => reluBackwardWasm(xs, g, gx, add));
    }
  });

  it('tanh and its backward match the references bit for bit, odd sizes and every range of the argument included', () => {
    const rand = makeRandom(14);
    for (const n of [256, 257, 258, 259, 1000, 4099, 16389, 7, 255]) {
      for (const scale of [0.05, 1, 8]) { // near 0 (k = 0), the middle, and out past the clamp
        const xs = data(n, rand, scale);
        const want = new Float32Array(n), got = new Float32Array(n);
        tanhReference(xs, want);
        tanhWasm(xs, got);
        expectBitIdentical(got, want, `tanh n=${n} scale=${scale}`);
        const g = data(n, rand, 3), gx0 = data(n, rand, 0.5);
        const gw = gx0.slice(), gg = gx0.slice();
        tanhBackwardReference(want, g, gw, true);
        tanhBackwardWasm(want, g, gg, true);
        expectBitIdentical(gg, gw, `tanhBackward n=${n} scale=${scale}`);
        expectStoreAsAddingIntoZeros(n, `tanhBackward n=${n}`, (gx, add) => tanhBackwardReference(want, g, gx, add), (gx, add) => tanhBackwardWasm(want, g, gx, add));
      }
    }
  });

  it('mul and mulAccumulate match the references bit for bit', () => {
    const rand = makeRandom(2);
    for (const n of [256, 261, 4096, 65539]) {
      const x = data(n, rand), m = data(n, rand, 1, 1, false), g = data(n, rand, 2);
      // dropout-like mask values too: 0 and 1/(1 − p) rounded to float32
      for (let i = 0; i < n; i += 3) m[i] = i % 2 ? 0 : 1 / 0.9;
      const want = new Float32Array(n), got = new Float32Array(n);
      mulReference(x, m, want);
      mulWasm(x, m, got);
      expectBitIdentical(got, want, `mul n=${n}`);
      const a0 = data(n, rand, 1e-3);
      const aw = a0.slice(), ag = a0.slice();
      mulAccumulateReference(g, m, aw, true);
      mulAccumulateWasm(g, m, ag, true);
      expectBitIdentical(ag, aw, `mulAccumulate n=${n}`);
      expectStoreAsAddingIntoZeros(n, `mulAccumulate n=${n}`, (gx, add) => mulAccumulateReference(g, m, gx, add), (gx, add) => mulAccumulateWasm(g, m, gx, add));
    }
  });

  it('BatchNorm moments, normalisation and backward match the references bit for bit', () => {
    const rand = makeRandom(3);
    for (const [rows, c] of SHAPES) {
      const n = rows * c;
      // A large mean and a small spread: the regime where summation order shows in the bits.
      const x = data(n, rand, 0.3, 40, false);
      const mw = new Float64Array(c), qw = new Float64Array(c), mg = new Float64Array(c), qg = new Float64Array(c);
      channelMomentsReference(x, rows, c, mw, qw);
      channelMomentsWasm(x, rows, c, mg, qg);
      expectBitIdentical(mg, mw, `mean [${rows}, ${c}]`);
      expectBitIdentical(qg, qw, `M2 [${rows}, ${c}]`);

      const invStd = new Float64Array(c);
      for (let j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(qw[j] / rows + 1e-5);
      const gamma = data(c, rand, 0.5, 1, false), beta = data(c, rand, 0.2, 0, false);
      const hw = new Float32Array(n), yw = new Float32Array(n), hg = new Float32Array(n), yg = new Float32Array(n);
      batchNormNormalizeReference(x, rows, c, mw, invStd, gamma, beta, hw, yw);
      batchNormNormalizeWasm(x, rows, c, mw, invStd, gamma, beta, hg, yg);
      expectBitIdentical(hg, hw, `x̂ [${rows}, ${c}]`);
      expectBitIdentical(yg, yw, `y [${rows}, ${c}]`);

      const g = data(n, rand, 1, 0, false);
      const sw = new Float64Array(c), tw = new Float64Array(c), sg = new Float64Array(c).fill(7), tg = new Float64Array(c).fill(7);
      batchNormBackwardSumsReference(g, hw, rows, c, sw, tw);
      batchNormBackwardSumsWasm(g, hw, rows, c, sg, tg);
      expectBitIdentical(sg, sw, `Σdy [${rows}, ${c}]`);
      expectBitIdentical(tg, tw, `Σdy·x̂ [${rows}, ${c}]`);

      const scale = new Float64Array(c), meanDy = new Float64Array(c), meanDyXhat = new Float64Array(c);
      for (let j = 0; j < c; j++) { scale[j] = gamma[j] * invStd[j]; meanDy[j] = sw[j] / rows; meanDyXhat[j] = tw[j] / rows; }
      const gx0 = data(n, rand, 0.01, 0, false);
      const dw = gx0.slice(), dg = gx0.slice();
      batchNormBackwardDxReference(g, hw, rows, c, scale, meanDy, meanDyXhat, dw, true);
      batchNormBackwardDxWasm(g, hw, rows, c, scale, meanDy, meanDyXhat, dg, true);
      expectBitIdentical(dg, dw, `dx [${rows}, ${c}]`);
      expectStoreAsAddingIntoZeros(n, `dx [${rows}, ${c}]`,
        (gx, add) => batchNormBackwardDxReference(g, hw, rows, c, scale, meanDy, meanDyXhat, gx, add),
        (gx, add) => batchNormBackwardDxWasm(g, hw, rows, c, scale, meanDy, meanDyXhat, gx, add));
    }
  });

  it('dropout keep masks match CounterRng.fillMask and per-element uniform() >= p', () => {
    const rand = makeRandom(4);
    const starts = [0, 1, 2, 3, 5, 4 * 2 ** 32 - 6, 4 * 2 ** 32 - 1, 4 * (2 ** 32 - 2) + 3, 2 ** 40 + 7, 2 ** 52 + 1];
    const ps = [0, 0.1, 0.37, 0.5, 1 - 2 ** -24, 1, 3 / 16777216, 3.5 / 16777216];
    let checked = 0;
    for (const start of starts) {
      for (const n of [256, 257, 258, 259, 271, 272, 1000, 4103]) {
        const seed = Math.floor(rand() * 2 ** 53);
        const rng = new CounterRng(seed);
        const stream: Stream = [Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 32)];
        const p = ps[checked++ % ps.length]!;
        const value = 1 / (1 - Math.min(p, 0.5));
        const want = new Float32Array(n), got = new Float32Array(n);
        keepMaskReference(want, rng, stream, start, p, value);
        keepMaskWasm(got, rng, stream, start, p, value);
        expectBitIdentical(got, want, `keepMask start=${start} n=${n} p=${p}`);
        for (let i = 0; i < n; i += 97) expect(want[i]).toBe(rng.uniform(stream, start + i) >= p ? Math.fround(value) : 0);
      }
    }
  });

  it('the SIMD Philox gives CounterRng.fillUniform’s numbers at any offset and length', () => {
    const rand = makeRandom(5);
    for (let trial = 0; trial < 60; trial++) {
      const start = trial < 10 ? 4 * 2 ** 32 - 1 - trial : Math.floor(rand() * 2 ** (trial % 50 + 2));
      const n = 1 + Math.floor(rand() * 300);
      const rng = new CounterRng(Math.floor(rand() * 2 ** 40));
      const stream: Stream = [Math.floor(rand() * 2 ** 32), trial];
      const want = new Float32Array(n), got = new Float32Array(n);
      rng.fillUniform(want, stream, start);
      expect(fillUniformWasm(got, rng, stream, start)).toBe(true);
      expectBitIdentical(got, want, `uniforms start=${start} n=${n}`);
    }
  });

  it('Adam matches the reference bit for bit over several steps (L2 and decoupled decay, odd sizes)', () => {
    const rand = makeRandom(7);
    for (const [n, l2, shrink] of [[1027, 0, 1], [4096, 1e-2, 1], [301, 0, 1 - 1e-3 * 0.01], [20483, 1e-2, 1]] as const) {
      const p0 = data(n, rand, 0.1, 0, false);
      const pw = p0.slice(), pg = p0.slice();
      const mw = new Float32Array(n), mg = new Float32Array(n), vw = new Float32Array(n), vg = new Float32Array(n);
      for (let step = 1; step <= 5; step++) {
        const g = data(n, rand, 1e-3, 0, false);
        if (step === 3) g.fill(0, 0, 17); // zero gradients: √v and m near 0
        const stepSize = 1e-3 / (1 - 0.9 ** step), bc2Sqrt = Math.sqrt(1 - 0.999 ** step);
        adamReference(pw, g, mw, vw, stepSize, bc2Sqrt, 0.9, 0.999, 1e-8, l2, shrink);
        adamWasm(pg, g, mg, vg, stepSize, bc2Sqrt, 0.9, 0.999, 1e-8, l2, shrink);
        expectBitIdentical(pg, pw, `params n=${n} step ${step}`);
        expectBitIdentical(mg, mw, `exp_avg n=${n} step ${step}`);
        expectBitIdentical(vg, vw, `exp_avg_sq n=${n} step ${step}`);
      }
    }
  });

  it('falls back to the references for float64 and small inputs', () => {
    const rand = makeRandom(6);
    const x64 = Float64Array.from(data(1000, rand));
    const a = new Float64Array(1000), b = new Float64Array(1000);
    reluReference(x64, a);
    reluWasm(x64, b);
    expectBitIdentical(b, a, 'relu float64');
    const small = data(WASM_MIN_ELEMENTS - 1, rand);
    const s1 = new Float32Array(small.length), s2 = new Float32Array(small.length);
    reluReference(small, s1);
    reluWasm(small, s2);
    expectBitIdentical(s2, s1, 'relu small');
  });
});
