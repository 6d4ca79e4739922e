import { BatchNorm, buildModel, takeFirst, type Dataset, type Model, type ModelSpec } from '@flotilla/core';
import { loadDataset } from '@flotilla/datasets';
import { minPartFloats, type RunConfig as WorkerRunConfig } from '@flotilla/protocol';
import { Piscina } from 'piscina';
import { createSharedState, type SharedState } from './shared-state.js';
import { StepRunner, type ExchangeFn, type SendPartFn } from './step-runner.js';

/** What a session sends through its current connection (replaced when the worker reconnects). */
export interface SessionLink {
  exchange: ExchangeFn;
  sendPart: SendPartFn;
}

/**
 * Everything a worker sets up for one run: the data in shared memory, a model (for its
 * layout), the piscina pool of K threads that keep their replicas, and the step runner.
 * Kept across reconnects to the same run.
 */
export class RunSession {
  readonly model: Model;
  readonly shared: SharedState;
  readonly pool: Piscina;
  readonly runner: StepRunner;
  /** The SyncBN exchange and part sender of the current connection. */
  link: SessionLink;

  /** `data`: the training samples, when the caller has them (otherwise loaded by name from the config). */
  constructor(readonly runId: string, readonly workerId: number, spec: ModelSpec, readonly config: WorkerRunConfig, threads: number, link: SessionLink, data?: Dataset) {
    this.link = link;
    this.model = buildModel(spec);
    const batchNorms = this.model.modules.filter((m): m is BatchNorm => m instanceof BatchNorm);
    const maxChannels = batchNorms.reduce((c, m) => Math.max(c, m.channels), 0);
    const train = data ?? takeFirst(loadDataset(config.dataset).train, config.trainLimit);
    this.shared = createSharedState(threads, this.model.params.length, this.model.buffers.length, maxChannels, train);
    this.pool = new Piscina({
      filename: new URL('./thread.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 24 * 3600 * 1000,
      // One task per thread at a time: SyncBN needs all K tasks running at once.
      concurrentTasksPerWorker: 1,
    });
    const channelsOf = (layer: number): number => {
      const module = this.model.modules[layer];
      if (!(module instanceof BatchNorm)) throw new Error(`SyncBN barrier at module ${layer}, which is not a BatchNorm layer`);
      return module.channels;
    };
    this.runner = new StepRunner(this.pool, this.shared, {
      runKey: `${runId}/${workerId}`, shared: this.shared, spec, config: {
        seed: config.seed, bnSync: config.bnSync, smoothing: config.smoothing, perturb: config.perturb, partFloats: minPartFloats(config.bucketMb ?? 0),
      },
    }, channelsOf, (mine) => this.link.exchange(mine), (offset, values) => this.link.sendPart(offset, values),
    config.bnSync === 'global' && batchNorms.length > 0);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

