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

const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;
const INV_2_POW_24 = 1 / 16777216;

/**
 * High 32 bits of the 64-bit product of the uint32 (aHi·2¹⁶ + aLo) and b, as an int32 bit
 * pattern. Integer-only (Hacker's Delight `mulhu` on 16-bit limbs): every partial sum stays
 * below 2³², so `| 0` wraps nothing that matters and V8 keeps it all in 32-bit registers,
 * about twice as fast as the same thing in doubles.
 */
function mulhi(aLo: number, aHi: number, b: number): number {
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = (Math.imul(aHi, b0) + (Math.imul(aLo, b0) >>> 16)) | 0;
  const w = (Math.imul(aLo, b1) + (t & 0xffff)) | 0;
  return (Math.imul(aHi, b1) + (t >>> 16) + (w >>> 16)) | 0;
}

/**
 * Philox4x32-10 of counter (c0..c3) under key (k0, k1), written into `out` (a Uint32Array
 * gets the words, an Int32Array their bit patterns). State is kept as int32 bit patterns.
 */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number,
  k0: number, k1: number,
  out: Uint32Array | Int32Array,
): void {
  let x0 = c0 | 0, x1 = c1 | 0, x2 = c2 | 0, x3 = c3 | 0;
  let key0 = k0 | 0, key1 = k1 | 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0_LO, M0_HI, x0);
    const lo0 = Math.imul(M0, x0);
    const hi1 = mulhi(M1_LO, M1_HI, x2);
    const lo1 = Math.imul(M1, x2);
    x0 = hi1 ^ x1 ^ key0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ key1;
    x3 = lo0;
    key0 = (key0 + W0) | 0;
    key1 = (key1 + W1) | 0;
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

  /** The Philox key (seed mod 2³², seed / 2³²), for kernels that run the generator elsewhere. */
  get key(): [number, number] {
    return [this.k0, this.k1];
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
    return (this.uint32(stream, index) >>> 8) * INV_2_POW_24;
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
    this.fillBlocks(out, stream, start, -1, 0);
  }

  /**
   * A keep mask such as inverted dropout's: out[i] = uniform(stream, start + i) >= p ? value : 0,
   * without materialising the uniforms. The comparison is done on the 24-bit integer k of
   * uniform = k/2²⁴: k/2²⁴ >= p exactly when k >= ⌈p·2²⁴⌉ (p·2²⁴ is exact), so the mask
   * is bit-identical to thresholding fillUniform's output.
   */
  fillMask(out: Float32Array | Float64Array, stream: Stream, start: number, p: number, value: number): void {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`fillMask: p must be in [0, 1], got ${p}`);
    this.fillBlocks(out, stream, start, Math.ceil(p * 16777216), value);
  }

  /**
   * Writes uniforms (threshold < 0) or the mask k >= threshold ? value : 0 for the 24-bit
   * integer k of each uniform. Philox runs once per block of four outputs.
   */
  private fillBlocks(out: Float32Array | Float64Array, stream: Stream, start: number, threshold: number, value: number): void {
    const n = out.length;
    if (n === 0) return;
    if (!(Number.isSafeInteger(start) && start >= 0 && start + n <= 2 ** 53)) {
      throw new RangeError(`Invalid start index: ${start} (expected a non-negative safe integer)`);
    }
    const b = this.block;
    const s0 = stream[0], s1 = stream[1], k0 = this.k0, k1 = this.k1;
    const uniform = threshold < 0;
    let i = 0;
    let blockIndex = Math.floor(start / 4);
    for (let w = start & 3; ; blockIndex++, w = 0) {
      philox4x32(blockIndex >>> 0, Math.floor(blockIndex / TWO_POW_32), s0, s1, k0, k1, b);
      if (w === 0 && i + 4 <= n) {
        // Whole block (the common case): four outputs, no per-word loop.
        const q0 = b[0] >>> 8, q1 = b[1] >>> 8, q2 = b[2] >>> 8, q3 = b[3] >>> 8;
        if (uniform) {
          out[i] = q0 * INV_2_POW_24; out[i + 1] = q1 * INV_2_POW_24;
          out[i + 2] = q2 * INV_2_POW_24; out[i + 3] = q3 * INV_2_POW_24;
        } else {
          out[i] = q0 >= threshold ? value : 0; out[i + 1] = q1 >= threshold ? value : 0;
          out[i + 2] = q2 >= threshold ? value : 0; out[i + 3] = q3 >= threshold ? value : 0;
        }
        i += 4;
      } else {
        for (; w < 4 && i < n; w++, i++) {
          const q = b[w] >>> 8;
          out[i] = uniform ? q * INV_2_POW_24 : q >= threshold ? value : 0;
        }
      }
      if (i >= n) return;
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
