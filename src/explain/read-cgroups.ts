/**
 * Reading cgroups from the kernel (the edge): which hierarchies are mounted where, and the
 * limits and usage of one cgroup in all of them. Works the same on cgroup v2, v1 and hybrid
 * hosts because it reads whatever files exist: v2's memory.max beside v1's
 * memory.limit_in_bytes, and takes the first that the kernel offers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseMountinfo, parseProcCgroup } from './proc-parse.js';
import type { CgroupFacts, CgroupHierarchy, CgroupLimits, CgroupTreeNode, CgroupUsage } from './snapshot.js';

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The hierarchies this host uses (from our own /proc/self/cgroup) and where each is mounted. */
export function readHierarchies(procRoot = '/proc'): CgroupHierarchy[] {
  const own = parseProcCgroup(read(path.join(procRoot, 'self/cgroup')) ?? '');
  const mounts = parseMountinfo(read(path.join(procRoot, 'self/mountinfo')) ?? '').filter(
    (m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2',
  );
  return own.map((h) => {
    const version = h.hierarchyId === 0 ? 2 : 1;
    const mount = mounts.find((m) =>
      version === 2 ? m.fsType === 'cgroup2' : m.fsType === 'cgroup' && h.controllers.every((c) => m.superOptions.split(',').includes(c)),
    );
    // Only a mount of the hierarchy's root shows every path; a mounted subtree is not used.
    const usable = mount && mount.root === '/';
    return { id: h.hierarchyId, version, controllers: h.controllers, ...(usable ? { mountPoint: mount.mountPoint } : {}) };
  });
}

/** `unified` for cgroup2, the controllers (`cpu,cpuacct`, `name=systemd`) for a v1 hierarchy. */
export function hierarchyKey(h: { version: 1 | 2; controllers: string[] }): string {
  return h.version === 2 ? 'unified' : h.controllers.join(',');
}

/** v2 "max" and v1's "no limit" (PAGE_COUNTER_MAX pages, -1) as null. */
function limitValue(raw: string): number | null {
  if (raw === 'max' || raw === '-1') return null;
  const n = Number(raw);
  return n >= 2 ** 62 ? null : n;
}

/** `key value` lines (cpu.stat, memory.events, memory.oom_control). */
function keyed(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Limits and usage of the cgroup at `cgroupPath` (relative to the hierarchy roots). */
export function readCgroup(hierarchies: CgroupHierarchy[], cgroupPath: string): CgroupFacts | undefined {
  const dirs: Record<string, string> = {};
  for (const h of hierarchies) {
    if (!h.mountPoint) continue;
    const dir = path.join(h.mountPoint, cgroupPath);
    if (fs.existsSync(dir)) dirs[hierarchyKey(h)] = dir;
  }
  if (Object.keys(dirs).length === 0) return undefined;
  const v1Dir = (controller: string): string | undefined =>
    Object.entries(dirs).find(([k]) => k !== 'unified' && k.split(',').includes(controller))?.[1];
  const limits: CgroupLimits = {};
  const usage: CgroupUsage = {};
  const sources: Record<string, string> = {};

  /** The first of the candidate files that exists, as [text, file]. */
  const first = (candidates: [string | undefined, string][]): [string, string] | undefined => {
    for (const [dir, file] of candidates) {
      if (!dir) continue;
      const text = read(path.join(dir, file));
      if (text !== undefined) return [text, path.join(dir, file)];
    }
    return undefined;
  };
  const set = <K extends string>(
    target: Partial<Record<K, number | null>>,
    key: K,
    found: [string, string] | undefined,
    parse: (t: string) => number | null | undefined,
  ): void => {
    if (!found) return;
    const value = parse(found[0]);
    if (value === undefined || Number.isNaN(value)) return;
    target[key] = value;
    sources[key] = found[1];
  };
  const v2 = dirs.unified;
  const mem = v1Dir('memory');
  const cpu = v1Dir('cpu');
  const pids = v1Dir('pids');

  set(
    limits,
    'memoryMaxBytes',
    first([
      [v2, 'memory.max'],
      [mem, 'memory.limit_in_bytes'],
    ]),
    limitValue,
  );
  set(limits, 'swapMaxBytes', first([[v2, 'memory.swap.max']]), limitValue);
  const cpuMax = first([[v2, 'cpu.max']]);
  if (cpuMax) {
    const [quota, period] = cpuMax[0].split(/\s+/);
    set(limits, 'cpuQuotaUs', cpuMax, () => limitValue(quota ?? 'max'));
    set(limits, 'cpuPeriodUs', cpuMax, () => Number(period));
  } else {
    set(limits, 'cpuQuotaUs', first([[cpu, 'cpu.cfs_quota_us']]), limitValue);
    set(limits, 'cpuPeriodUs', first([[cpu, 'cpu.cfs_period_us']]), Number);
  }
  set(limits, 'cpuWeight', first([[v2, 'cpu.weight']]), Number);
  set(limits, 'cpuShares', first([[cpu, 'cpu.shares']]), Number);
  set(
    limits,
    'pidsMax',
    first([
      [v2, 'pids.max'],
      [pids, 'pids.max'],
    ]),
    limitValue,
  );

  set(
    usage,
    'memoryCurrentBytes',
    first([
      [v2, 'memory.current'],
      [mem, 'memory.usage_in_bytes'],
    ]),
    Number,
  );
  set(
    usage,
    'memoryPeakBytes',
    first([
      [v2, 'memory.peak'],
      [mem, 'memory.max_usage_in_bytes'],
    ]),
    Number,
  );
  set(
    usage,
    'pidsCurrent',
    first([
      [v2, 'pids.current'],
      [pids, 'pids.current'],
    ]),
    Number,
  );
  set(
    usage,
    'oomKills',
    first([
      [v2, 'memory.events'],
      [mem, 'memory.oom_control'],
    ]),
    (t) => keyed(t, 'oom_kill'),
  );
  // cpu.stat: v2's has usage and throttling in µs; v1's (cpu controller) throttling in ns.
  const v2Stat = first([[v2, 'cpu.stat']]);
  const v1Stat = first([[cpu, 'cpu.stat']]);
  const statWith = (key: string): [string, string] | undefined => [v2Stat, v1Stat].find((s) => s && keyed(s[0], key) !== undefined);
  set(usage, 'cpuUsageNs', first([[v1Dir('cpuacct'), 'cpuacct.usage']]) ?? statWith('usage_usec'), (t) =>
    /^\d+$/.test(t) ? Number(t) : (keyed(t, 'usage_usec') ?? NaN) * 1000,
  );
  set(usage, 'nrPeriods', statWith('nr_periods'), (t) => keyed(t, 'nr_periods'));
  set(usage, 'nrThrottled', statWith('nr_throttled'), (t) => keyed(t, 'nr_throttled'));
  const throttledUs = statWith('throttled_usec');
  if (throttledUs) set(usage, 'throttledNs', throttledUs, (t) => (keyed(t, 'throttled_usec') ?? NaN) * 1000);
  else set(usage, 'throttledNs', statWith('throttled_time'), (t) => keyed(t, 'throttled_time'));

  return { path: cgroupPath, dirs, limits, usage, sources };
}

/** The cgroup and every cgroup below it (directories of the first hierarchy that has it). */
export function readCgroupTree(hierarchies: CgroupHierarchy[], cgroupPath: string, depth = 0): CgroupTreeNode | undefined {
  const facts = readCgroup(hierarchies, cgroupPath);
  if (!facts) return undefined;
  const dir = facts.dirs.memory ?? facts.dirs.unified ?? Object.values(facts.dirs)[0]!;
  let names: string[] = [];
  try {
    names = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    // removed meanwhile
  }
  const children = depth < 4 ? names.flatMap((n) => readCgroupTree(hierarchies, path.posix.join(cgroupPath, n), depth + 1) ?? []) : [];
  return { name: path.posix.basename(cgroupPath), ...facts, children };
}
