/**
 * The cgroup reader on fake cgroup filesystems in a temp dir: a pure cgroup v2 host (the VM
 * tests' kind) and a v1 hierarchy, so both file layouts are read the same way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCgroup, readCgroupTree, readHierarchies } from '../../../src/explain/read-cgroups.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'explain-cg-'));
  dirs.push(root);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

describe('explain: reading cgroups', () => {
  it('finds the hierarchies of a hybrid host and where each is mounted', () => {
    const proc = tree({
      'self/cgroup': '4:memory:/\n2:cpu,cpuacct:/\n1:name=systemd:/\n0::/\n',
      'self/mountinfo': [
        '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
        '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
        '32 25 0:28 /sub /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
        '33 25 0:29 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      ].join('\n'),
    });
    expect(readHierarchies(proc)).toEqual([
      { id: 4, version: 1, controllers: ['memory'], mountPoint: '/sys/fs/cgroup/memory' },
      { id: 2, version: 1, controllers: ['cpu', 'cpuacct'], mountPoint: '/sys/fs/cgroup/cpu,cpuacct' },
      // Only a subtree of it is mounted: its paths cannot be followed.
      { id: 1, version: 1, controllers: ['name=systemd'] },
      { id: 0, version: 2, controllers: [], mountPoint: '/sys/fs/cgroup/unified' },
    ]);
  });

  it('reads limits and use on cgroup v2, with "max" as unlimited', () => {
    const root = tree({
      'minipod/blog/memory.max': '67108864\n',
      'minipod/blog/memory.current': '2097152\n',
      'minipod/blog/memory.peak': '3145728\n',
      'minipod/blog/memory.swap.max': '0\n',
      'minipod/blog/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n',
      'minipod/blog/cpu.max': '25000 100000\n',
      'minipod/blog/cpu.weight': '10\n',
      'minipod/blog/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 700\n',
      'minipod/blog/pids.max': 'max\n',
      'minipod/blog/pids.current': '3\n',
      'minipod/blog/web/memory.max': 'max\n',
      'minipod/blog/web/cpu.max': 'max 100000\n',
    });
    const facts = readCgroup([{ id: 0, version: 2, controllers: [], mountPoint: root }], '/minipod/blog')!;
    expect(facts.dirs).toEqual({ unified: path.join(root, 'minipod/blog') });
    expect(facts.limits).toEqual({
      memoryMaxBytes: 64 * 2 ** 20,
      swapMaxBytes: 0,
      cpuQuotaUs: 25_000,
      cpuPeriodUs: 100_000,
      cpuWeight: 10,
      pidsMax: null,
    });
    expect(facts.usage).toEqual({
      memoryCurrentBytes: 2 * 2 ** 20,
      memoryPeakBytes: 3 * 2 ** 20,
      pidsCurrent: 3,
      oomKills: 1,
      cpuUsageNs: 1_500_000,
      nrPeriods: 10,
      nrThrottled: 2,
      throttledNs: 700_000,
    });
    expect(facts.sources.memoryMaxBytes).toBe(path.join(root, 'minipod/blog/memory.max'));
    const t = readCgroupTree([{ id: 0, version: 2, controllers: [], mountPoint: root }], '/minipod/blog')!;
    expect(t.children.map((c) => [c.name, c.limits.memoryMaxBytes, c.limits.cpuQuotaUs])).toEqual([['web', null, null]]);
  });

  it('reads the same facts from v1 files, with the "no limit" page counter as unlimited', () => {
    const mem = tree({
      'minipod/blog/web/memory.limit_in_bytes': '9223372036854771712\n',
      'minipod/blog/web/memory.usage_in_bytes': '1048576\n',
      'minipod/blog/web/memory.max_usage_in_bytes': '2097152\n',
      'minipod/blog/web/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    });
    const cpu = tree({
      'minipod/blog/web/cpu.cfs_quota_us': '-1\n',
      'minipod/blog/web/cpu.cfs_period_us': '100000\n',
      'minipod/blog/web/cpu.shares': '256\n',
      'minipod/blog/web/cpu.stat': 'nr_periods 4\nnr_throttled 1\nthrottled_time 12345\n',
      'minipod/blog/web/cpuacct.usage': '987654\n',
    });
    const facts = readCgroup(
      [
        { id: 4, version: 1, controllers: ['memory'], mountPoint: mem },
        { id: 2, version: 1, controllers: ['cpu', 'cpuacct'], mountPoint: cpu },
      ],
      '/minipod/blog/web',
    )!;
    expect(facts.limits).toEqual({ memoryMaxBytes: null, cpuQuotaUs: null, cpuPeriodUs: 100_000, cpuShares: 256 });
    expect(facts.usage).toEqual({
      memoryCurrentBytes: 2 ** 20,
      memoryPeakBytes: 2 * 2 ** 20,
      oomKills: 2,
      cpuUsageNs: 987654,
      nrPeriods: 4,
      nrThrottled: 1,
      throttledNs: 12345,
    });
  });

  it('has nothing to say about a cgroup that is gone', () => {
    const root = tree({ 'x/memory.max': 'max' });
    expect(readCgroup([{ id: 0, version: 2, controllers: [], mountPoint: root }], '/minipod/gone')).toBeUndefined();
  });
});
