import type { FloatArray } from '../dtype.js';
import type { CounterRng, Stream } from '../rng.js';
import { ELEMENTWISE_WASM_BASE64 } from './elementwise-wasm-bytes.js';
import {
  batchNormBackwardDxReference, batchNormBackwardSumsReference, batchNormNormalizeReference, channelMomentsReference,
  accumulateReference, addNReference, adamReference, axpbyReference, firstNonFiniteReference, keepMaskReference, sumSquaresReference, mulAccumulateReference, mulReference, reluBackwardReference, reluReference, tanhBackwardReference, tanhReference,
} from './elementwise-reference.js';
import { ensureMemory, lazyInstance, type WasmMemory } from './wasm-module.js';

/*
 * WebAssembly SIMD versions of the elementwise kernels: thin wrappers around the module
 * compiled from assembly/elementwise.ts and embedded as base64 in elementwise-wasm-bytes.ts.
 *
 * Each call copies its operands into the module's linear memory (an arena grown on demand
 * and kept), runs there and copies the results out. The copies are memcpy speed (~5 µs per
 * 256 KB here) and the kernels are branch-free f32x4/f64x2 loops, so even with the copies
 * these beat the TypeScript loops several times over (see bench/step.mjs).
 *
 * Results are bit-identical to the TypeScript references (elementwise-reference.ts): see
 * the rules at the top of assembly/elementwise.ts; tests compare them on random shapes.
 * The 16-bit gradient conversions (encodeHalfWasm, decodeHalfWasm, maxAbsBitsWasm) are
 * defined, and tested against these, where the wire format lives: protocol's half.ts.
 * Falls back to the references for anything not float32 (gradient checks run in float64),
 * below a few hundred elements (call and copy overhead), and where WebAssembly SIMD is
 * unavailable.
 */

interface WasmExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  sumSquares(x: number, n: number, acc: number): void;
  accumulate(x: number, y: number, n: number, accumulate: boolean): void;
  firstNonFinite(x: number, n: number): number;
  axpby(x: number, y: number, n: number, a: number, b: number): void;
  tanhForward(x: number, y: number, n: number): void;
  tanhBackward(y: number, g: number, gx: number, n: number, accumulate: boolean): void;
  reluForward(x: number, y: number, n: number): void;
  reluBackward(x: number, g: number, gx: number, n: number, accumulate: boolean): void;
  mul(x: number, m: number, y: number, n: number): void;
  mulAccumulate(g: number, m: number, gx: number, n: number, accumulate: boolean): void;
  channelMoments(x: number, rows: number, c: number, mean: number, m2: number): void;
  batchNormNormalize(x: number, rows: number, c: number, mean: number, invStd: number, gamma: number, beta: number, xhat: number, y: number): void;
  batchNormBackwardSums(g: number, xhat: number, rows: number, c: number, sumDy: number, sumDyXhat: number): void;
  batchNormBackwardDx(g: number, xhat: number, rows: number, c: number, scale: number, meanDy: number, meanDyXhat: number, gx: number, accumulate: boolean): void;
  adam(
    p: number, g: number, m: number, v: number, n: number,
    stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number, l2: number, shrink: number,
  ): void;
  maxAbsBits(x: number, n: number): number;
  toBf16(x: number, h: number, n: number): number;
  fromBf16(h: number, x: number, n: number): void;
  toF16(x: number, h: number, n: number, scale: number, top: number): number;
  fromF16(h: number, x: number, n: number, inverse: number): void;
  philoxFill(
    out: number, n: number, blkLo: number, blkHi: number, w0: number,
    s0: number, s1: number, k0: number, k1: number, threshold: number, value: number,
  ): void;
}

/** Below this many elements the TypeScript loop wins (call and copy overhead). */
export const WASM_MIN_ELEMENTS = 256;

/** Elements per piece of the chunked kernels (forChunks): ≤ 4 operands × 32 KB; a multiple of 4 (sumSquares' lanes). */
const CHUNK = 8192;

const loadModule = lazyInstance<WasmExports>(ELEMENTWISE_WASM_BASE64);
let f32 = new Float32Array(0);
let f64 = new Float64Array(0);
let u16 = new Uint16Array(0);
/** Where the arena starts (0 until the module is loaded: it is never 0 after). */
let base = 0;
let top = 0;

function instance(): WasmExports | null {
  const w = loadModule();
  if (w !== null && base === 0) base = w.heapBase();
  return w;
}

/**
 * The module for a float32 kernel over n elements, or null when the caller should run the
 * reference: too few elements to pay for the call, an operand not float32 (the gradient
 * checks' float64), or no WebAssembly SIMD here.
 */
function moduleFor(n: number, ...operands: FloatArray[]): WasmExports | null {
  return n >= WASM_MIN_ELEMENTS && operands.every((a) => a instanceof Float32Array) ? instance() : null;
}

/** True when the WebAssembly SIMD elementwise module compiled and instantiated here. */
export function wasmElementwiseAvailable(): boolean {
  return instance() !== null;
}

/**
 * Starts a call's arena: room for `bytes` bytes of operands (each rounded up to 16), memory
 * grown if needed. Returns the module, or null when the caller should use the reference.
 */
function begin(bytes: number): WasmExports | null {
  const w = instance();
  if (w === null) return null;
  const memory = w.memory;
  ensureMemory(memory, base + bytes);
  if (f32.buffer !== memory.buffer) {
    f32 = new Float32Array(memory.buffer);
    f64 = new Float64Array(memory.buffer);
    u16 = new Uint16Array(memory.buffer);
  }
  top = base;
  return w;
}

/** Reserves `n` elements of `bytesPer` bytes in the arena; returns the byte offset. */
function reserve(n: number, bytesPer: number): number {
  const at = top;
  top = (top + n * bytesPer + 15) & ~15;
  return at;
}

const bytes32 = (n: number): number => (n * 4 + 15) & ~15;
const bytes64 = (n: number): number => (n * 8 + 15) & ~15;

/** Copies a float32 operand into the arena; returns its byte offset. */
function put32(a: Float32Array, n: number): number {
  const at = reserve(n, 4);
  set32(at, a, n);
  return at;
}

/** Copies the first n values of a float32 operand to byte offset `at` of the arena. */
function set32(at: number, a: Float32Array, n: number): void {
  f32.set(n === a.length ? a : a.subarray(0, n), at >> 2);
}

function put64(a: Float64Array, n: number): number {
  const at = reserve(n, 8);
  f64.set(n === a.length ? a : a.subarray(0, n), at >> 3);
  return at;
}

function get32(at: number, out: Float32Array, n: number): void {
  out.set(f32.subarray(at >> 2, (at >> 2) + n));
}

function get64(at: number, out: Float64Array, n: number): void {
  out.set(f64.subarray(at >> 3, (at >> 3) + n));
}

/** The piece [at, at + len) of a float32 operand. */
const piece = (a: FloatArray, at: number, len: number): Float32Array => (a as Float32Array).subarray(at, at + len);

/**
 * Runs `body(at, len)` over [0, n) in pieces of at most CHUNK elements, each starting the
 * arena afresh, which is sized once for `arrays` float32 operands of the largest piece and
 * `extraBytes` more: copy-in, kernel and copy-out of a piece then all hit L1/L2, where whole
 * operands of the default model's size (0.5–2 MB each) would stream through L3 three times.
 * For kernels whose outputs depend only on the same index's inputs (or that carry their
 * state across pieces). A body that returns true stops the walk.
 */
function forChunks(n: number, arrays: number, body: (at: number, len: number) => boolean | void, extraBytes = 0): void {
  begin(arrays * bytes32(Math.min(CHUNK, n)) + extraBytes);
  for (let at = 0; at < n; at += CHUNK) {
    top = base;
    if (body(at, Math.min(CHUNK, n - at)) === true) return;
  }
}

/**
 * An elementwise kernel over [0, n) in pieces (forChunks): `ins` are copied in, `inouts` in
 * and back out, `outs` only out; the kernel gets their pointers in that order.
 */
function pieces(n: number, ins: FloatArray[], inouts: FloatArray[], outs: FloatArray[], kernel: (p: number[], len: number) => void): void {
  forChunks(n, ins.length + inouts.length + outs.length, (at, len) => {
    const p: number[] = [];
    for (const a of ins) p.push(put32(piece(a, at, len), len));
    for (const a of inouts) p.push(put32(piece(a, at, len), len));
    for (let i = 0; i < outs.length; i++) p.push(reserve(len, 4));
    kernel(p, len);
    inouts.forEach((a, i) => get32(p[ins.length + i], piece(a, at, len), len));
    outs.forEach((a, i) => get32(p[ins.length + inouts.length + i], piece(a, at, len), len));
  });
}

/**
 * `pieces`' inouts and outs for a target that is added into (`accumulate`) or only written,
 * as a first gradient is: then it is not copied in.
 */
function gradientTarget(target: FloatArray, accumulate: boolean): [FloatArray[], FloatArray[]] {
  return accumulate ? [[target], []] : [[], [target]];
}

/**
 * forChunks for row-independent kernels on [rows, c] matrices: pieces of whole rows and
 * `arrays` matrix operands each. The per-channel operands (`channelBytes` of them) go into
 * the arena once, by `channels`, before the first piece; every piece gets what it returned.
 */
function forRowChunks<T>(rows: number, c: number, arrays: number, channelBytes: number, channels: () => T, body: (r0: number, nr: number, ch: T) => void): void {
  const step = Math.max(1, Math.floor(CHUNK / c));
  begin(channelBytes + arrays * bytes32(Math.min(step, rows) * c));
  const ch = channels();
  const mark = top;
  for (let r0 = 0; r0 < rows; r0 += step) {
    top = mark;
    body(r0, Math.min(step, rows - r0), ch);
  }
}

/** sumSquaresWasm's four running sums between pieces. */
const acc = new Float64Array(4);

export function sumSquaresWasm(x: FloatArray): number {
  const n = x.length;
  const w = moduleFor(n, x);
  if (w === null) return sumSquaresReference(x);
  acc.fill(0);
  forChunks(n, 1, (at, len) => {
    const a = put64(acc, 4), xp = put32(piece(x, at, len), len);
    w.sumSquares(xp, len, a);
    get64(a, acc, 4);
  }, bytes64(4));
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

export function firstNonFiniteWasm(x: FloatArray): number {
  const n = x.length;
  const w = moduleFor(n, x);
  if (w === null) return firstNonFiniteReference(x);
  let found = -1;
  forChunks(n, 1, (at, len) => {
    const i = w.firstNonFinite(put32(piece(x, at, len), len), len);
    if (i >= 0) found = at + i;
    return i >= 0;
  });
  return found;
}

export function accumulateWasm(x: FloatArray, y: FloatArray, accumulate: boolean): void {
  const n = y.length;
  const w = x.length >= n ? moduleFor(n, x, y) : null;
  if (w === null) { accumulateReference(x, y, accumulate); return; }
  pieces(n, [x], ...gradientTarget(y, accumulate), ([xp, yp], len) => w.accumulate(xp, yp, len, accumulate));
}

/**
 * Per piece: the first array is copied in as the sum, every other one into a second slot
 * and added there by the accumulate kernel, and the sum copied out once: k + 1 copies of a
 * piece where a copy and k − 1 accumulates over whole arrays made 3k − 1.
 */
export function addNWasm(xs: readonly FloatArray[], y: FloatArray): void {
  const n = y.length;
  const w = xs.length > 1 && xs.every((x) => x.length >= n) ? moduleFor(n, y, ...xs) : null;
  if (w === null) { addNReference(xs, y); return; }
  forChunks(n, 2, (at, len) => {
    const sum = put32(piece(xs[0], at, len), len);
    const next = reserve(len, 4);
    for (let k = 1; k < xs.length; k++) {
      set32(next, piece(xs[k], at, len), len);
      w.accumulate(next, sum, len, true);
    }
    get32(sum, piece(y, at, len), len);
  });
}

export function axpbyWasm(x: FloatArray, y: FloatArray, a: number, b: number): void {
  const n = y.length;
  const w = x.length >= n ? moduleFor(n, x, y) : null;
  if (w === null) { axpbyReference(x, y, a, b); return; }
  pieces(n, [x], [y], [], ([xp, yp], len) => w.axpby(xp, yp, len, a, b));
}

export function tanhWasm(xs: FloatArray, ys: FloatArray): void {
  const n = xs.length;
  const w = moduleFor(n, xs, ys);
  if (w === null) { tanhReference(xs, ys); return; }
  pieces(n, [xs], [], [ys], ([x, y], len) => w.tanhForward(x, y, len));
}

export function tanhBackwardWasm(ys: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void {
  const n = g.length;
  const w = moduleFor(n, ys, g, gx);
  if (w === null) { tanhBackwardReference(ys, g, gx, accumulate); return; }
  pieces(n, [ys, g], ...gradientTarget(gx, accumulate), ([y, gp, gxp], len) => w.tanhBackward(y, gp, gxp, len, accumulate));
}

export function reluWasm(xs: FloatArray, ys: FloatArray): void {
  const n = xs.length;
  const w = moduleFor(n, xs, ys);
  if (w === null) { reluReference(xs, ys); return; }
  pieces(n, [xs], [], [ys], ([x, y], len) => w.reluForward(x, y, len));
}

export function reluBackwardWasm(xs: FloatArray, g: FloatArray, gx: FloatArray, accumulate: boolean): void {
  const n = g.length;
  const w = moduleFor(n, xs, g, gx);
  if (w === null) { reluBackwardReference(xs, g, gx, accumulate); return; }
  pieces(n, [xs, g], ...gradientTarget(gx, accumulate), ([x, gp, a], len) => w.reluBackward(x, gp, a, len, accumulate));
}

export function mulWasm(x: FloatArray, m: FloatArray, y: FloatArray): void {
  const n = y.length;
  const w = moduleFor(n, x, m, y);
  if (w === null) { mulReference(x, m, y); return; }
  pieces(n, [x, m], [], [y], ([xp, mp, yp], len) => w.mul(xp, mp, yp, len));
}

export function mulAccumulateWasm(g: FloatArray, m: FloatArray, gx: FloatArray, accumulate: boolean): void {
  const n = g.length;
  const w = moduleFor(n, g, m, gx);
  if (w === null) { mulAccumulateReference(g, m, gx, accumulate); return; }
  pieces(n, [g, m], ...gradientTarget(gx, accumulate), ([gp, mp, a], len) => w.mulAccumulate(gp, mp, a, len, accumulate));
}

export function channelMomentsWasm(x: FloatArray, rows: number, c: number, mean: Float64Array, m2: Float64Array): void {
  const n = rows * c;
  const w = mean.length === c && m2.length === c && moduleFor(n, x) ? begin(bytes32(n) + 2 * bytes64(c)) : null;
  if (w === null) { channelMomentsReference(x, rows, c, mean, m2); return; }
  const xp = put32(x as Float32Array, n), mp = reserve(c, 8), qp = reserve(c, 8);
  w.channelMoments(xp, rows, c, mp, qp);
  get64(mp, mean, c);
  get64(qp, m2, c);
}

export function batchNormNormalizeWasm(
  x: FloatArray, rows: number, c: number, mean: Float64Array, invStd: Float64Array,
  gamma: FloatArray, beta: FloatArray, xhat: FloatArray, y: FloatArray,
): void {
  const n = rows * c;
  const w = moduleFor(n, x, gamma, beta, xhat, y);
  if (w === null) { batchNormNormalizeReference(x, rows, c, mean, invStd, gamma, beta, xhat, y); return; }
  const channels = () => ({ mp: put64(mean, c), ip: put64(invStd, c), gp: put32(gamma as Float32Array, c), bp: put32(beta as Float32Array, c) });
  forRowChunks(rows, c, 3, 2 * bytes64(c) + 2 * bytes32(c), channels, (r0, nr, { mp, ip, gp, bp }) => {
    const at = r0 * c, len = nr * c;
    const xp = put32(piece(x, at, len), len), hp = reserve(len, 4), yp = reserve(len, 4);
    w.batchNormNormalize(xp, nr, c, mp, ip, gp, bp, hp, yp);
    get32(hp, piece(xhat, at, len), len);
    get32(yp, piece(y, at, len), len);
  });
}

export function batchNormBackwardSumsWasm(
  g: FloatArray, xhat: FloatArray, rows: number, c: number, sumDy: Float64Array, sumDyXhat: Float64Array,
): void {
  const n = rows * c;
  const w = sumDy.length === c && sumDyXhat.length === c && moduleFor(n, g, xhat) ? begin(2 * bytes32(n) + 2 * bytes64(c)) : null;
  if (w === null) { batchNormBackwardSumsReference(g, xhat, rows, c, sumDy, sumDyXhat); return; }
  const gp = put32(g as Float32Array, n), hp = put32(xhat as Float32Array, n), sp = reserve(c, 8), tp = reserve(c, 8);
  w.batchNormBackwardSums(gp, hp, rows, c, sp, tp);
  get64(sp, sumDy, c);
  get64(tp, sumDyXhat, c);
}

export function batchNormBackwardDxWasm(
  g: FloatArray, xhat: FloatArray, rows: number, c: number,
  scale: Float64Array, meanDy: Float64Array, meanDyXhat: Float64Array, gx: FloatArray, accumulate: boolean,
): void {
  const n = rows * c;
  const w = moduleFor(n, g, xhat, gx);
  if (w === null) { batchNormBackwardDxReference(g, xhat, rows, c, scale, meanDy, meanDyXhat, gx, accumulate); return; }
  const channels = () => ({ sp: put64(scale, c), dp: put64(meanDy, c), ep: put64(meanDyXhat, c) });
  forRowChunks(rows, c, 3, 3 * bytes64(c), channels, (r0, nr, { sp, dp, ep }) => {
    const at = r0 * c, len = nr * c, out = piece(gx, at, len);
    const gp = put32(piece(g, at, len), len), hp = put32(piece(xhat, at, len), len);
    const ap = accumulate ? put32(out, len) : reserve(len, 4); // only written: not copied in
    w.batchNormBackwardDx(gp, hp, nr, c, sp, dp, ep, ap, accumulate);
    get32(ap, out, len);
  });
}

export function keepMaskWasm(out: FloatArray, rng: CounterRng, stream: Stream, start: number, p: number, value: number): void {
  const n = out.length;
  const valid = Number.isSafeInteger(start) && start >= 0 && start + n <= 2 ** 53 && p >= 0 && p <= 1;
  const w = n >= WASM_MIN_ELEMENTS && valid && out instanceof Float32Array ? begin(bytes32(n)) : null;
  if (w === null) { keepMaskReference(out, rng, stream, start, p, value); return; }
  const [k0, k1] = rng.key;
  const block = Math.floor(start / 4);
  const o = reserve(n, 4);
  w.philoxFill(o, n, block >>> 0, Math.floor(block / 4294967296), start & 3, stream[0] >>> 0, stream[1] >>> 0, k0, k1,
    Math.ceil(p * 16777216), value);
  get32(o, out as Float32Array, n);
}

/**
 * Uniforms from the same SIMD Philox (threshold −1): CounterRng.fillUniform's numbers, for
 * tests of the generator itself. float32 only.
 */
export function fillUniformWasm(out: Float32Array, rng: CounterRng, stream: Stream, start: number): boolean {
  const n = out.length;
  const w = begin(bytes32(n));
  if (w === null) return false;
  const [k0, k1] = rng.key;
  const block = Math.floor(start / 4);
  const o = reserve(n, 4);
  w.philoxFill(o, n, block >>> 0, Math.floor(block / 4294967296), start & 3, stream[0] >>> 0, stream[1] >>> 0, k0, k1, -1, 0);
  get32(o, out, n);
  return true;
}

/**
 * Adam in float32 lanes, in cache-sized pieces: the four buffers go in and three come out.
 * 1.0 ms for the default model's 536k parameters here (float64 lanes took 1.75 ms, and
 * 2.26 ms copying whole buffers; the TypeScript loop ~4 ms).
 */
export function adamWasm(
  params: FloatArray, grads: FloatArray, expAvg: FloatArray, expAvgSq: FloatArray,
  stepSize: number, bc2Sqrt: number, beta1: number, beta2: number, eps: number, l2: number, shrink: number,
): void {
  const n = params.length;
  const w = grads.length === n && expAvg.length === n && expAvgSq.length === n ? moduleFor(n, params, grads, expAvg, expAvgSq) : null;
  if (w === null) { adamReference(params, grads, expAvg, expAvgSq, stepSize, bc2Sqrt, beta1, beta2, eps, l2, shrink); return; }
  pieces(n, [grads], [params, expAvg, expAvgSq], [], ([gp, pp, mp, vp], len) => w.adam(pp, gp, mp, vp, len, stepSize, bc2Sqrt, beta1, beta2, eps, l2, shrink));
}

/**
 * Whether float32 holds the scale factor `v` exactly (and it is not 0): then a float32
 * value times `v` is exact in float64 (at most 24 + 24 significant bits), so the kernel's
 * float32 product rounds once, to what the TypeScript's float64 product rounds to.
 */
const exactInFloat32 = (v: number): boolean => v !== 0 && Math.fround(v) === v;

/**
 * The largest |x[i]| as float32 bits (x[i] & 0x7fffffff; 0x7f800000 or more when x holds a
 * non-finite value), or -1 where the module does not apply (the caller's TypeScript then).
 */
export function maxAbsBitsWasm(x: Float32Array): number {
  const n = x.length;
  const w = n >= WASM_MIN_ELEMENTS ? instance() : null;
  if (w === null) return -1;
  let best = 0;
  forChunks(n, 1, (at, len) => { best = Math.max(best, w.maxAbsBits(put32(piece(x, at, len), len), len)); });
  return best;
}

/** Values encodeHalfWasm has converted in SIMD lanes so far, not by the scalar form. */
let halfLaneValues = 0;

/**
 * dst[i] = the 16-bit pattern of src[i]: bfloat16 (bf16Bits), or binary16 of src[i]·scale
 * held at ±top (f16Clamped; `scale` exact in float32, as the codec's powers of two are). Returns false, touching nothing, where
 * the module does not apply (too short, no WebAssembly SIMD, a scale float32 cannot hold):
 * the caller then takes its TypeScript path.
 */
export function encodeHalfWasm(kind: 'f16' | 'bf16', src: Float32Array, scale: number, top: number, dst: Uint16Array): boolean {
  const n = src.length;
  const w = n >= WASM_MIN_ELEMENTS && dst.length >= n && (kind === 'bf16' || exactInFloat32(scale)) ? instance() : null;
  if (w === null) return false;
  forChunks(n, 2, (at, len) => {
    const x = put32(piece(src, at, len), len), h = reserve(len, 2);
    halfLaneValues += kind === 'bf16' ? w.toBf16(x, h, len) : w.toF16(x, h, len, scale, top);
    dst.set(u16.subarray(h >> 1, (h >> 1) + len), at);
  });
  return true;
}

/**
 * How many values the 16-bit encoders have converted in SIMD lanes in this thread so far.
 * The scalar form gives the same bits, so only this tells a test that the fast path runs.
 */
export function halfLaneValuesEncoded(): number {
  return halfLaneValues;
}

/**
 * dst[i] = the value of the 16-bit pattern src[i] (bf16Value, or f16Value divided by
 * `scale`, whose inverse float32 holds exactly). Returns false, touching nothing, where the module does not apply.
 */
export function decodeHalfWasm(kind: 'f16' | 'bf16', src: Uint16Array, scale: number, dst: Float32Array): boolean {
  const n = src.length;
  const w = n >= WASM_MIN_ELEMENTS && dst.length >= n && (kind === 'bf16' || exactInFloat32(1 / scale)) ? instance() : null;
  if (w === null) return false;
  forChunks(n, 2, (at, len) => {
    const h = reserve(len, 2), x = reserve(len, 4);
    u16.set(src.subarray(at, at + len), h >> 1);
    if (kind === 'bf16') w.fromBf16(h, x, len);
    else w.fromF16(h, x, len, 1 / scale);
    get32(x, piece(dst, at, len), len);
  });
  return true;
}
