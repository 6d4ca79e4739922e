/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11), the generator behind PyTorch's CUDA and JAX-style keyed RNGs.
 *
 * A value is a pure function of (seed, stream, index), with no hidden state, so any worker
 * or thread can produce exactly the numbers of any sample (DESIGN 5). `stream` is a pair of
 * 32-bit words, e.g. (step, layer); `index` is an integer below 2^53, e.g.
 * sampleIndex * features + element.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;

/** High 32 bits of the 64-bit product of two uint32, exact in doubles. */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16);
  return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
}

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1), written into `out`. */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number,
  k0: number, k1: number,
  out: Uint32Array,
): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

/** A stream identifier: two 32-bit words, e.g. [step, layerIndex]. */
export type Stream = readonly [number, number];

/** Keyed generator: the seed is the Philox key, (index, stream) the counter. */
export class CounterRng {
  private readonly k0: number;
  private readonly k1: number;
  private readonly block = new Uint32Array(4);

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`Invalid seed: ${seed} (expected a non-negative safe integer)`);
    }
    this.k0 = seed >>> 0;
    this.k1 = Math.floor(seed / TWO_POW_32) >>> 0;
  }

  /** Four uint32 words for block `blockIndex` of `stream`. */
  private fill(stream: Stream, blockIndex: number): Uint32Array {
    philox4x32(blockIndex >>> 0, Math.floor(blockIndex / TWO_POW_32), stream[0], stream[1], this.k0, this.k1, this.block);
    return this.block;
  }

  /** uint32 number `index` of `stream`. */
  uint32(stream: Stream, index: number): number {
    return this.fill(stream, Math.floor(index / 4))[index & 3];
  }

  /** Uniform in [0, 1) with 24 random bits, so it is exact in float32. */
  uniform(stream: Stream, index: number): number {
    return (this.uint32(stream, index) >>> 8) * (1 / 16777216);
  }

  /** Standard normal number `index` of `stream` (Box-Muller on one Philox block pair). */
  normal(stream: Stream, index: number): number {
    const b = this.fill(stream, Math.floor(index / 2));
    const w = (index & 1) * 2;
    const u1 = (b[w] + 0.5) / TWO_POW_32; // in (0, 1): log never sees 0
    const u2 = b[w + 1] / TWO_POW_32;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** out[i] = uniform(stream, start + i), a block of four at a time. */
  fillUniform(out: Float32Array | Float64Array, stream: Stream, start = 0): void {
    const n = out.length;
    let i = 0;
    while (i < n) {
      const index = start + i;
      const b = this.fill(stream, Math.floor(index / 4));
      for (let w = index & 3; w < 4 && i < n; w++, i++) out[i] = (b[w] >>> 8) * (1 / 16777216);
    }
  }

  /** out[i] = mean + std * normal(stream, start + i). */
  fillNormal(out: Float32Array | Float64Array, stream: Stream, start = 0, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal(stream, start + i);
  }

  /** A permutation of 0..n-1 (Fisher-Yates driven by `stream`), e.g. one epoch's order. */
  permutation(n: number, stream: Stream): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      // 53-bit uniform from two words keeps the modulo bias negligible for any n < 2^31.
      const b = this.fill(stream, i);
      const u = (b[0] * 2097152 + (b[1] >>> 11)) / 9007199254740992;
      const j = Math.floor(u * (i + 1));
      const t = p[i]; p[i] = p[j]; p[j] = t;
    }
    return p;
  }
}

/** Stream namespaces, so data order, dropout and init never share numbers. */
export const RngPurpose = {
  init: 1,
  shuffle: 2,
  dropout: 3,
  perturb: 4,
  sample: 5,
} as const;
