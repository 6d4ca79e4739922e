/** A benchmark topology: worker processes × threads per worker. */
export interface Topology {
  workers: number;
  threads: number;
}

/**
 * How the global batch follows the topology. Strong scaling keeps it (`--batch`, split over
 * all threads: the same training, done by more hands). Weak scaling keeps each thread's
 * share (`--batch` rows per thread, so W × T × `--batch` in all), as Horovod's and
 * PyTorch DDP's throughput figures do with a fixed batch per GPU: more hands, bigger steps.
 */
export type ScalingMode = 'strong' | 'weak';

/** The global batch of topology `t` for a --batch of `batch`. */
export function scaledBatch(batch: number, t: Topology, mode: ScalingMode): number {
  return mode === 'weak' ? batch * t.workers * t.threads : batch;
}

/** The mode the --weak flag asks for. */
export function scalingModeOf(args: { weak?: boolean }): ScalingMode {
  return args.weak ? 'weak' : 'strong';
}

/** How --batch reads in `mode`, for logs and titles: "global batch 256" or "batch 256 per thread (weak scaling)". */
export function describeBatch(batch: number, mode: ScalingMode): string {
  return mode === 'weak' ? `batch ${batch} per thread (weak scaling)` : `global batch ${batch}`;
}
