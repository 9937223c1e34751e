/**
 * `minipod stats`: samples of a pod's cgroups and the rows `podman stats` shows, computed from
 * two samples (CPU % is CPU time used over wall time elapsed, 100% = one CPU, as podman). The
 * table is drawn by src/cli/stats.ts.
 */
import os from 'node:os';
import type { CgroupManager, CgroupStats } from './manager.js';

export interface PodStatsSample {
  pod: string;
  /** Monotonic time of the sample, ns. */
  timeNs: number;
  /** The pod itself first (container ''), then each container. */
  cgroups: { container: string; stats: CgroupStats }[];
}

export interface StatsRow {
  pod: string;
  /** '' for the pod's own cgroup (every container and the init together). */
  container: string;
  /** null on the first sample: there is nothing to compare with yet. */
  cpuPercent: number | null;
  memUsageBytes: number;
  memLimitBytes: number;
  memPercent: number;
  pids: number;
  cpuThrottledPeriods: number;
}

export function collectPodStats(
  manager: CgroupManager,
  pod: string,
  containers: string[],
  now: () => number = () => Number(process.hrtime.bigint()),
): PodStatsSample {
  const cgroups = [{ container: '', stats: manager.stats(pod) }];
  for (const c of containers) cgroups.push({ container: c, stats: manager.stats(pod, c) });
  return { pod, timeNs: now(), cgroups };
}

export function statsRows(prev: PodStatsSample | undefined, cur: PodStatsSample, hostMemoryBytes: number = os.totalmem()): StatsRow[] {
  const elapsed = prev ? cur.timeNs - prev.timeNs : 0;
  return cur.cgroups.map(({ container, stats }) => {
    const before = prev?.cgroups.find((c) => c.container === container)?.stats;
    const cpuPercent = before && elapsed > 0 ? Math.max(0, ((stats.cpuUsageNs - before.cpuUsageNs) / elapsed) * 100) : null;
    // Like podman: an unlimited cgroup is shown against the host's memory.
    const limit = stats.memoryLimitBytes ?? hostMemoryBytes;
    const limited = Math.min(limit, hostMemoryBytes);
    return {
      pod: cur.pod,
      container,
      cpuPercent,
      memUsageBytes: stats.memoryWorkingSetBytes,
      memLimitBytes: limited,
      memPercent: limited > 0 ? (stats.memoryWorkingSetBytes / limited) * 100 : 0,
      pids: stats.pidsCurrent,
      cpuThrottledPeriods: stats.nrThrottled,
    };
  });
}
