import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The cores a benchmark's processes can use at once: os.availableParallelism() (the CPUs this
 * process may run on), capped by the cgroup's CPU quota where one is set, as in a container
 * given `--cpus 2` on a 64-core host, whose processes see 64 CPUs but get 2 cores' worth of
 * time. Fractional quotas stay fractional (1.5 cores is 1.5 cores of CPU time per second).
 */
export function usableCores(read: (path: string) => string = (path) => readFileSync(path, 'utf8'), cpus = availableParallelism()): number {
  const quota = cgroupCpuQuota(read);
  return quota === null ? cpus : Math.min(cpus, quota);
}

/** The CPU quota in cores from cgroup v2's cpu.max or v1's cfs files; null for none or none readable. */
export function cgroupCpuQuota(read: (path: string) => string): number | null {
  const attempt = (f: () => number | null): number | null => {
    try {
      return f();
    } catch {
      return null; // no such file: not this cgroup version, or not Linux
    }
  };
  // v2: "max 100000" (no limit) or "<quota> <period>" in microseconds.
  const v2 = attempt(() => {
    const [quota, period] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    return quota === 'max' ? null : positiveRatio(Number(quota), Number(period));
  });
  if (v2 !== null) return v2;
  // v1: cpu.cfs_quota_us is -1 without a limit.
  return attempt(() => positiveRatio(
    Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim()),
    Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim()),
  ));
}

const positiveRatio = (quota: number, period: number): number | null =>
  (Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : null);
