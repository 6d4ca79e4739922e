#!/usr/bin/env node
/**
 * tanh64 (the definition of tanh the kernels reproduce) against Math.tanh, and the speed of
 * the WebAssembly kernel, one thread (build first: `npx turbo run build`).
 *
 *   node packages/core/bench/tanh.mjs [--stride 97] [--json]
 *
 * - accuracy: every `stride`-th float32 bit pattern from +0 to 20 (past where tanh is 1 in
 *   float32), each with both signs: how many round to the same float32 as Math.tanh's value,
 *   and the largest relative difference in float64. Stride 97 is 11.4 million patterns.
 * - speed: ns per element over 1M float32 values in [-10, 10): the kernel (kernels.tanh),
 *   a Math.tanh loop and a tanh64 loop, the best of 5.
 */
import { kernels, tanh64 } from '../dist/index.js';

const args = process.argv.slice(2);
const at = args.indexOf('--stride');
const stride = at >= 0 ? Number(args[at + 1]) : 97;
if (!Number.isInteger(stride) || stride < 1) throw new Error(`--stride must be a positive integer, got ${args[at + 1]}`);

const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
let count = 0, same = 0, worst = 0;
const differ = [];
for (let b = 0; b <= 0x41a00000; b += stride) {
  bits[0] = b;
  for (const x of [f[0], -f[0]]) {
    const got = tanh64(x), want = Math.tanh(x);
    count++;
    if (Math.fround(got) === Math.fround(want)) same++;
    else if (differ.length < 10) differ.push(x);
    if (want !== 0) worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
  }
}

const n = 1 << 20;
const xs = Float32Array.from({ length: n }, (_, i) => (i % 2000 - 1000) / 100);
const ys = new Float32Array(n);
const best = (fn) => {
  let ms = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return (1e6 * ms) / n;
};
const result = {
  stride, arguments: count, same_float32: same, differing: differ, max_relative_difference: worst,
  ns_per_element: {
    kernel: best(() => kernels.tanh(xs, ys)),
    math_tanh_loop: best(() => { for (let i = 0; i < n; i++) ys[i] = Math.tanh(xs[i]); }),
    tanh64_loop: best(() => { for (let i = 0; i < n; i++) ys[i] = tanh64(xs[i]); }),
  },
};
if (args.includes('--json')) console.log(JSON.stringify(result));
else {
  console.log(`${count} float32 arguments (every ${stride}th pattern up to 20, both signs): ${same} round as Math.tanh does` +
    `${differ.length ? `; first that differ: ${differ.join(', ')}` : ''}; largest relative difference ${worst.toExponential(2)}`);
  const t = result.ns_per_element;
  console.log(`ns per element: kernel ${t.kernel.toFixed(2)}, Math.tanh loop ${t.math_tanh_loop.toFixed(2)}, tanh64 loop ${t.tanh64_loop.toFixed(2)}`);
}
