import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The cores a benchmark's processes can use at once: os.availableParallelism() (the CPUs this
 * process may run on), capped by its cgroup's CPU quota where one is set, as in a container
 * given `--cpus 2` on a 64-core host, whose processes see 64 CPUs but get 2 cores' worth of
 * time. A fractional quota stays fractional (1.5 cores is 1.5 cores of CPU time a second),
 * except where the runtime's availableParallelism already applies the quota, rounded down.
 */
export function usableCores(read: (path: string) => string = (path) => readFileSync(path, 'utf8'), cpus = availableParallelism()): number {
  const quota = cgroupCpuQuota(read);
  return quota === null ? cpus : Math.min(cpus, quota);
}

/** "1.5" for 1.5 cores, "2" for 2: for log lines. */
export function formatCores(cores: number): string {
  return String(Number(cores.toFixed(2)));
}

/**
 * The tightest CPU quota in cores on this process's cgroup and its ancestors (a quota on a
 * parent limits its children too), cgroup v2 first, then v1's cpu controller; null for none,
 * or where the files are not there (not Linux, no cgroup mounted).
 */
export function cgroupCpuQuota(read: (path: string) => string): number | null {
  const lines = attempt(() => read('/proc/self/cgroup').split('\n')) ?? [];
  // v2: one line "0::/path"; cpu.max holds "max 100000" (no limit) or "<quota> <period>" in µs.
  const v2Path = lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  const v2 = tightest(ancestors('/sys/fs/cgroup', v2Path).map((dir) => attempt(() => {
    const [quota, period] = read(`${dir}/cpu.max`).trim().split(/\s+/);
    return quota === 'max' ? null : ratio(Number(quota), Number(period));
  })));
  if (v2 !== null) return v2;
  // v1: "N:cpu,cpuacct:/path"; cpu.cfs_quota_us is -1 without a limit.
  const v1Line = lines.find((l) => l.split(':')[1]?.split(',').includes('cpu'));
  const v1Path = v1Line?.split(':').slice(2).join(':') || '/';
  const mounts = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
  return tightest(mounts.flatMap((mount) => ancestors(mount, v1Path)).map((dir) => attempt(() => ratio(
    Number(read(`${dir}/cpu.cfs_quota_us`).trim()),
    Number(read(`${dir}/cpu.cfs_period_us`).trim()),
  ))));
}

/** The directory of cgroup `path` under `mount` and those of its ancestors up to the mount. */
function ancestors(mount: string, path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `${mount}/${parts.slice(0, parts.length - i).join('/')}`).concat(mount);
}

function tightest(quotas: Array<number | null>): number | null {
  const set = quotas.filter((q): q is number => q !== null);
  return set.length > 0 ? Math.min(...set) : null;
}

function attempt<T>(f: () => T | null): T | null {
  try {
    return f();
  } catch {
    return null; // no such file: another cgroup version, or not Linux
  }
}

const ratio = (quota: number, period: number): number | null =>
  (Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : null);
