import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCores } from './cores.js';

/** A read() over these files; any other path does not exist. */
const files = (contents: Record<string, string>) => (path: string): string => {
  if (!(path in contents)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return contents[path];
};

describe('usableCores', () => {
  it('caps the CPUs by a cgroup v2 quota, fractions included, and ignores "max"', () => {
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }), 64)).toBe(2);
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 64)).toBe(1.5);
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }), 8)).toBe(8);
    // A quota above the CPUs there are does not add any.
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': '800000 100000\n' }), 2)).toBe(2);
  });

  it('reads cgroup v1 when there is no v2 file, where -1 means no limit', () => {
    const v1 = (quota: string) => files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota, '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' });
    expect(usableCores(v1('300000\n'), 16)).toBe(3);
    expect(usableCores(v1('-1\n'), 16)).toBe(16);
  });

  it('takes the CPUs as they are without cgroup files, or with files it cannot read as a quota', () => {
    expect(cgroupCpuQuota(files({}))).toBeNull();
    expect(usableCores(files({}), 4)).toBe(4);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'garbage' }))).toBeNull();
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '0 100000' }))).toBeNull();
  });
});
