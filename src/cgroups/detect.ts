/**
 * Which cgroup layout the host has, found the way runc and youki do: by the filesystem magic of
 * the cgroup root rather than by parsing mount options.
 *
 * - unified: /sys/fs/cgroup is itself a cgroup2 mount.
 * - hybrid: /sys/fs/cgroup is a tmpfs of v1 controller mounts plus a cgroup2 at `unified/`
 *   (systemd's "hybrid" mode; v2 there has no controllers but has cgroup.kill/cgroup.events).
 * - legacy: v1 controllers only.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { CgroupMode } from '../plan/types.js';

export type { CgroupMode } from '../plan/types.js';

export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const TMPFS_MAGIC = 0x01021994;

/** Returns the filesystem magic of a path, or undefined when it does not exist. */
export type StatfsType = (p: string) => number | undefined;

export const nodeStatfsType: StatfsType = (p) => {
  try {
    return Number(fs.statfsSync(p).type);
  } catch {
    return undefined;
  }
};

export function detectCgroupMode(root: string, statfsType: StatfsType = nodeStatfsType): CgroupMode {
  const rootType = statfsType(root);
  if (rootType === CGROUP2_SUPER_MAGIC) return 'unified';
  if (statfsType(path.join(root, 'unified')) === CGROUP2_SUPER_MAGIC) return 'hybrid';
  return 'legacy';
}

/**
 * The v1 hierarchies minipod places pods in. Every mounted one, as runc's cgroupfs driver does,
 * so /proc/<pid>/cgroup shows the pod path everywhere (including the named systemd hierarchy).
 */
export const V1_HIERARCHIES = [
  'cpuset',
  'cpu',
  'cpuacct',
  'memory',
  'pids',
  'freezer',
  'devices',
  'blkio',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'rdma',
  'misc',
  'systemd',
] as const;
