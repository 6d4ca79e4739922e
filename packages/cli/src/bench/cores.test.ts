import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, formatCores, usableCores } from './cores.js';

/** A read() over these files; any other path does not exist. */
const files = (contents: Record<string, string>) => (path: string): string => {
  if (!(path in contents)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return contents[path];
};

describe('usableCores', () => {
  it('caps the CPUs by a cgroup v2 quota, fractions included, and ignores "max"', () => {
    const v2 = (max: string) => files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': max });
    expect(usableCores(v2('200000 100000\n'), 64)).toBe(2);
    expect(usableCores(v2('150000 100000\n'), 64)).toBe(1.5);
    expect(usableCores(v2('max 100000\n'), 8)).toBe(8);
    // A quota above the CPUs there are does not add any.
    expect(usableCores(v2('800000 100000\n'), 2)).toBe(2);
  });

  it('finds a v2 quota on the process\'s own cgroup or any ancestor, and takes the tightest', () => {
    const read = files({
      '/proc/self/cgroup': '0::/system.slice/ci.service\n',
      '/sys/fs/cgroup/system.slice/ci.service/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/system.slice/cpu.max': '300000 100000\n',
      '/sys/fs/cgroup/cpu.max': '600000 100000\n',
    });
    expect(cgroupCpuQuota(read)).toBe(3);
  });

  it('reads cgroup v1\'s cpu controller (either mount name) when there is no v2 quota, where -1 means no limit', () => {
    const v1 = (quota: string, mount = '/sys/fs/cgroup/cpu') => files({
      '/proc/self/cgroup': '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n',
      [`${mount}/docker/abc/cpu.cfs_quota_us`]: quota, [`${mount}/docker/abc/cpu.cfs_period_us`]: '100000\n',
    });
    expect(usableCores(v1('300000\n'), 16)).toBe(3);
    expect(usableCores(v1('250000\n', '/sys/fs/cgroup/cpu,cpuacct'), 16)).toBe(2.5);
    expect(usableCores(v1('-1\n'), 16)).toBe(16);
  });

  it('takes the CPUs as they are without cgroup files, or with files it cannot read as a quota', () => {
    expect(cgroupCpuQuota(files({}))).toBeNull();
    expect(usableCores(files({}), 4)).toBe(4);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'garbage' }))).toBeNull();
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '0 100000' }))).toBeNull();
  });

  it('prints a core count without float noise', () => {
    expect(formatCores(2)).toBe('2');
    expect(formatCores(4 / 3)).toBe('1.33');
    expect(formatCores(1.5)).toBe('1.5');
  });
});
