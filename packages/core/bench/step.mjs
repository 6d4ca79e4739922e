#!/usr/bin/env node
/**
 * One-thread timing of the hot compute path of @flotilla/core (build first: `npx turbo run build`).
 *
 *   node packages/core/bench/step.mjs [--batch 128] [--steps 60] [--reps 200] [--only step|ops] [--json]
 *     [--kernels reference]   elementwise kernels in TypeScript instead of WebAssembly SIMD
 *     [--dist DIR]            another build of @flotilla/core (e.g. of an older commit), to compare
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/core/bench/step.mjs --only step
 *
 * - step: one forward + backward (computeGradients) of the default MNIST model on synthetic
 *   inputs, and one full LocalTrainer step (gather, forward, backward, Adam).
 * - ops: per-op costs at the shapes the default model sees at that batch (dropout mask,
 *   ReLU, fused BatchNorm, applyMask, each forward + backward; fillUniform alone).
 *
 * Times are medians over repetitions (ms). The machine may be shared: repeat and compare.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const dist = opt('dist', new URL('../dist', import.meta.url).pathname);
const core = await import(pathToFileURL(resolve(dist, 'index.js')).href);
const {
  applyMask, batchNormTrain, buildModel, computeGradients, CounterRng, createOptimizer, DEFAULT_MNIST_SPEC,
  Dropout, LocalTrainer, relu, RngPurpose, Tensor,
} = core;
const kernelSet = opt('kernels', 'default');
if (kernelSet === 'reference') {
  const k = await import(pathToFileURL(resolve(dist, 'kernels/index.js')).href);
  if (!k.ELEMENTWISE_REFERENCE) throw new Error(`${dist} has no elementwise kernels to switch`);
  k.useKernels(k.ELEMENTWISE_REFERENCE);
}
const batch = Number(opt('batch', 128));
const steps = Number(opt('steps', 60));
const reps = Number(opt('reps', 200));
const only = opt('only', 'all');
const json = args.includes('--json');
const log = json ? () => {} : (s) => console.log(s);

const now = () => performance.now();
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
/** Median ms of `fn` over `n` runs after `warm` untimed runs. */
function time(fn, n = reps, warm = Math.max(10, n >> 2)) {
  for (let i = 0; i < warm; i++) fn(i);
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    fn(i + warm);
    ts.push(now() - t0);
  }
  return median(ts);
}

function syntheticData(count, features, classes, seed) {
  const rng = new CounterRng(seed);
  const inputs = new Float32Array(count * features);
  rng.fillUniform(inputs, [99, 0]);
  // MNIST-like sparsity: most pixels are 0.
  for (let i = 0; i < inputs.length; i++) if (inputs[i] < 0.8) inputs[i] = 0;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.uint32([99, 1], i) % classes;
  return { inputs, inputShape: [features], labels, count, numClasses: classes };
}

const result = { batch, node: process.version, dist, kernels: kernelSet };

if (only === 'all' || only === 'step') {
  const data = syntheticData(batch * 8, 784, 10, 1);
  const model = buildModel(DEFAULT_MNIST_SPEC, { seed: 0 });
  const x = new Tensor(data.inputs.slice(0, batch * 784), [batch, 784]);
  const y = data.labels.slice(0, batch);
  const fb = time((i) => {
    model.zeroGrad();
    computeGradients(model, x, y, { seed: 0, step: i, rowOffset: 0 });
  }, steps, 10);
  log(`forward+backward, default model, batch ${batch}, one thread: ${fb.toFixed(2)} ms (median of ${steps})`);

  // Full steps through LocalTrainer (as `flotilla bench kernels` does), batch `batch`.
  const trainer = new LocalTrainer(buildModel(DEFAULT_MNIST_SPEC, { seed: 0 }), createOptimizer('adam', { lr: 1e-3 }), data, {
    batchSize: batch, seed: 0, schedule: () => 1e-3, dropLast: true,
  });
  const compute = [], optim = [];
  while (compute.length < steps + 10) {
    trainer.trainEpoch(trainer.step, (r) => { compute.push(r.computeMs); optim.push(r.optimizerMs); });
  }
  const c = median(compute.slice(10)), o = median(optim.slice(10));
  log(`full step (gather, forward, backward, Adam): ${(c + o).toFixed(2)} ms = ${c.toFixed(2)} compute + ${o.toFixed(2)} optimizer` +
    ` → ${Math.round((1000 * batch) / (c + o))} samples/s`);
  Object.assign(result, { forward_backward_ms: fb, step_ms: c + o, compute_ms: c, optimizer_ms: o, samples_per_sec: (1000 * batch) / (c + o) });
}

if (only === 'all' || only === 'ops') {
  const ops = {};
  const rng = new CounterRng(7);
  for (const features of [512, 256]) {
    const n = batch * features;
    const xs = new Float32Array(n);
    rng.fillNormal(xs, [7, features]);
    const gradOut = new Float32Array(n);
    rng.fillNormal(gradOut, [8, features]);
    const shape = [batch, features];

    const u = new Float32Array(n);
    ops[`fillUniform ${n}`] = time((i) => rng.fillUniform(u, [RngPurpose.dropout * 65536 + 1, i], 0));

    const drop = new Dropout(0.1);
    drop.id = 4;
    ops[`dropout mask [${batch},${features}]`] = time((i) => drop.mask({ seed: 0, step: i, rowOffset: 0 }, batch, features, 'float32'));

    const mask = drop.mask({ seed: 0, step: 0, rowOffset: 0 }, batch, features, 'float32');
    // Forward, then the op's own VJP with a given upstream gradient (as inside a step: the
    // output and the input's gradient buffer are allocated by the op, as in training).
    const run = (make) => () => {
      const input = new Tensor(xs, shape, true);
      const out = make(input);
      out.grad = gradOut;
      out.node.backward();
    };
    ops[`applyMask fwd+bwd [${batch},${features}]`] = time(run((t) => applyMask(t, mask)));
    ops[`relu fwd+bwd [${batch},${features}]`] = time(run((t) => relu(t)));
    const gamma = Tensor.from(new Float32Array(features).fill(1), [features], 'float32', true);
    const beta = Tensor.zeros([features], 'float32', true);
    ops[`batchNorm fwd+bwd [${batch},${features}]`] = time(run((t) => {
      gamma.grad = null; beta.grad = null;
      return batchNormTrain(t, gamma, beta, 1e-5, null, () => {});
    }));
  }
  // Adam over the default model's parameter count (535,818 floats).
  const params = 535818;
  const pa = new Float32Array(params), ga = new Float32Array(params);
  rng.fillNormal(pa, [9, 1], 0, 0, 0.05);
  rng.fillNormal(ga, [9, 2], 0, 0, 1e-3);
  const adam = createOptimizer('adam', { lr: 1e-3 });
  ops[`adam step ${params}`] = time(() => adam.step(pa, ga), Math.min(reps, 100));
  for (const [name, ms] of Object.entries(ops)) log(`${name.padEnd(34)} ${(ms * 1000).toFixed(1).padStart(8)} µs`);
  result.ops_ms = ops;
}

if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
