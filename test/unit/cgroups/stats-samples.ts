/** Stats samples shared by the stats row tests (src/cgroups) and the table tests (src/cli). */
import type { CgroupStats } from '../../../src/cgroups/manager.js';
import type { PodStatsSample } from '../../../src/cgroups/stats.js';

export function stats(over: Partial<CgroupStats>): CgroupStats {
  return {
    cpuUsageNs: 0,
    nrPeriods: 0,
    nrThrottled: 0,
    throttledNs: 0,
    memoryCurrentBytes: 0,
    memoryWorkingSetBytes: 0,
    memoryLimitBytes: null,
    pidsCurrent: 0,
    pidsMax: null,
    ...over,
  };
}

/** Pod `p` with its pod cgroup and container `web`, at `timeNs` with the given CPU use. */
export const sample = (timeNs: number, podCpu: number, webCpu: number): PodStatsSample => ({
  pod: 'p',
  timeNs,
  cgroups: [
    { container: '', stats: stats({ cpuUsageNs: podCpu, memoryWorkingSetBytes: 20e6, pidsCurrent: 3 }) },
    { container: 'web', stats: stats({ cpuUsageNs: webCpu, memoryWorkingSetBytes: 10e6, memoryLimitBytes: 40e6, pidsCurrent: 2 }) },
  ],
});
