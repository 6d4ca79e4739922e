import { buildModel, createOptimizer, DEFAULT_MNIST_SPEC, LocalTrainer, takeFirst, type Dataset, type ModelSpec } from '@flotilla/core';

export interface TrainThroughput {
  samples_per_sec: number;
  batch: number;
  steps: number;
  ms_per_step: number;
  compute_ms_per_step: number;
  optimizer_ms_per_step: number;
}

/**
 * Single-process training throughput: full steps (gather, forward, backward, Adam) of `spec`
 * on `data`, after warm-up steps that let V8 optimise the hot paths. One thread. 30 timed
 * steps as scripts/peers/torch_train.py --bench times; 10 warm-up steps rather than its 3,
 * since V8 is still tiering up the JavaScript around the kernels over the first few (3 gave
 * 5–10% lower and noisier figures here).
 */
export function benchTrainThroughput(data: Dataset, options: { spec?: ModelSpec; batch?: number; steps?: number; warmup?: number } = {}): TrainThroughput {
  const batch = options.batch ?? 256;
  const steps = options.steps ?? 30;
  const warmup = options.warmup ?? 10;
  const model = buildModel(options.spec ?? DEFAULT_MNIST_SPEC, { seed: 0 });
  const trainer = new LocalTrainer(model, createOptimizer('adam', { lr: 1e-3 }), takeFirst(data, batch * (steps + warmup)), {
    batchSize: batch, seed: 0, schedule: () => 1e-3, dropLast: true,
  });
  let compute = 0, optimizer = 0, timed = 0;
  trainer.trainEpoch(0, (r) => {
    if (r.step < warmup) return;
    compute += r.computeMs;
    optimizer += r.optimizerMs;
    timed++;
  });
  const ms = (compute + optimizer) / timed;
  return {
    samples_per_sec: (1000 * batch) / ms, batch, steps: timed, ms_per_step: ms,
    compute_ms_per_step: compute / timed, optimizer_ms_per_step: optimizer / timed,
  };
}
