import { describe, expect, it } from 'vitest';
import { CGROUP2_SUPER_MAGIC, TMPFS_MAGIC, detectCgroupMode } from '../../../src/cgroups/detect.js';

const CGROUP_SUPER_MAGIC = 0x27e0eb;

describe('detectCgroupMode', () => {
  const statfs = (table: Record<string, number>) => (p: string) => table[p];
  it.each([
    [{ '/c': CGROUP2_SUPER_MAGIC }, 'unified'],
    [{ '/c': TMPFS_MAGIC, '/c/unified': CGROUP2_SUPER_MAGIC, '/c/memory': CGROUP_SUPER_MAGIC }, 'hybrid'],
    [{ '/c': TMPFS_MAGIC, '/c/memory': CGROUP_SUPER_MAGIC }, 'legacy'],
    [{ '/c': TMPFS_MAGIC, '/c/unified': TMPFS_MAGIC }, 'legacy'],
  ] as const)('%j -> %s', (table, mode) => {
    expect(detectCgroupMode('/c', statfs(table))).toBe(mode);
  });
});
