import type { Dataset, GradientSource, Model } from '@flotilla/core';
import { workerConfigOf, type RunConfig } from '@flotilla/coordinator';
import { RunSession } from '@flotilla/worker';

/**
 * `flotilla train --local --threads K`: the gradients of each batch computed by K threads of
 * this process, as a worker computes its shard (piscina pool, parameters in shared memory,
 * SyncBN at an Atomics barrier), without a coordinator or sockets. The batch is one solo
 * step, so the threads' merged BatchNorm statistics are the batch's, and the run is the one
 * `--local` computes, up to float summation order.
 */
export class ThreadGradients {
  private readonly session: RunSession;

  constructor(private readonly model: Model, config: RunConfig, train: Dataset, threads: number) {
    const noExchange = (): never => { throw new Error('a one-process step has no other process to exchange BatchNorm statistics with'); };
    // A worker's config as its welcome brings it, without gradient parts: nothing is sent.
    const { bucketMb: _noParts, ...workerConfig } = workerConfigOf(config);
    this.session = new RunSession('local', 0, config.model, workerConfig, threads, { exchange: noExchange, sendPart: () => false }, train);
  }

  /** The gradient source for LocalTrainer.trainEpochWith. */
  readonly source: GradientSource = async ({ step, epoch, batchStart, indices }) => {
    const { model, session } = this;
    session.runner.publish(model.params as Float32Array, model.buffers as Float32Array);
    const n = indices.length;
    const out = await session.runner.run({ step, epoch, batchStart, start: 0, end: n, globalBatch: n, members: 1 });
    model.grads.set(out.grads);
    model.buffers.set(out.buffers);
    return out.loss;
  };

  close(): Promise<void> {
    return this.session.close();
  }
}
