// Micro-benchmark of 16-bit gradient transport (run after building: `node bench/half.mjs` in packages/protocol).
// Times encodeMessage/decodeMessage of a gradient message of N values in f32, f16 and bf16, and the raw
// f16Scale / encodeHalf / decodeHalf loops, beside their TypeScript fallbacks. Median of several timed runs after a warm-up.
import { decodeMessage, encodeMessage, f16Scale } from '../dist/index.js';
import { decodeHalf, decodeHalfTypeScript, encodeHalf, encodeHalfTypeScript } from '../dist/half.js';

const N = Number(process.env.N ?? 536_586);
const BUFFERS = 256; // BatchNorm buffers ride along as float32
const RUNS = Number(process.env.RUNS ?? 40);

/** mulberry32 */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gradient-like values: log-uniform magnitudes 1e-10..1e-1 (the smallest become f16 subnormals after scaling), a few exact zeros. */
function gradient(n, seed) {
  const rand = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    out[i] = u < 0.01 ? 0 : (rand() < 0.5 ? -1 : 1) * 10 ** (-10 + 9 * rand());
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function time(fn) {
  for (let i = 0; i < 5; i++) fn();
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

const g = gradient(N, 7);
const buffers = gradient(BUFFERS, 8);
const timings = { computeMs: 1, bnWaitMs: 0, serializeMs: 0 };
const rows = [];
let sink = 0;

for (const dtype of [undefined, 'f16', 'bf16']) {
  const message = { type: 'gradient', step: 1, samples: 64, lossSum: 1, timings, gradient: g, buffers, ...(dtype ? { dtype } : {}) };
  const frame = encodeMessage(message);
  const enc = time(() => { sink += encodeMessage(message).length; });
  const dec = time(() => { sink += decodeMessage(frame).gradient.length; });
  const decOwned = time(() => { sink += decodeMessage(frame, { owned: true }).gradient.length; });
  rows.push([`encodeMessage ${dtype ?? 'f32'}`, enc]);
  rows.push([`decodeMessage ${dtype ?? 'f32'}`, dec]);
  if (!dtype) rows.push([`decodeMessage f32 (owned)`, decOwned]);
}

const halves = new Uint16Array(N);
const back = new Float32Array(N);
rows.push(['f16Scale', time(() => { sink += f16Scale(g); })]);
const scale = f16Scale(g);
// encodeHalf/decodeHalf take core's WebAssembly SIMD kernels; the *TypeScript rows are the
// table-driven fallback they replace (where WebAssembly SIMD is missing).
for (const [kind, s] of [['f16', scale], ['bf16', 1]]) {
  rows.push([`encodeHalf ${kind}`, time(() => encodeHalf(kind, g, s, halves))]);
  rows.push([`encodeHalfTypeScript ${kind}`, time(() => encodeHalfTypeScript(kind, g, s, halves))]);
  rows.push([`decodeHalf ${kind}`, time(() => decodeHalf(kind, halves, s, back))]);
  rows.push([`decodeHalfTypeScript ${kind}`, time(() => decodeHalfTypeScript(kind, halves, s, back))]);
}

console.log(`node ${process.version}, ${N} values, median of ${RUNS} runs`);
for (const [name, ms] of rows) console.log(`${name.padEnd(28)} ${ms.toFixed(3).padStart(8)} ms  ${(ms * 1e6 / N).toFixed(2).padStart(6)} ns/value`);
if (sink === 0.5) console.log(sink);
