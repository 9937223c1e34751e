import { describe, expect, it } from 'vitest';
import type { CgroupStats } from '../../../src/cgroups/manager.js';
import { statsRows, type PodStatsSample } from '../../../src/cgroups/stats.js';

function stats(over: Partial<CgroupStats>): CgroupStats {
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

const sample = (timeNs: number, podCpu: number, webCpu: number): PodStatsSample => ({
  pod: 'p',
  timeNs,
  cgroups: [
    { container: '', stats: stats({ cpuUsageNs: podCpu, memoryWorkingSetBytes: 20e6, pidsCurrent: 3 }) },
    { container: 'web', stats: stats({ cpuUsageNs: webCpu, memoryWorkingSetBytes: 10e6, memoryLimitBytes: 40e6, pidsCurrent: 2 }) },
  ],
});

describe('stats rows', () => {
  it('computes CPU % from two samples and MEM % against the limit or the host', () => {
    const rows = statsRows(sample(0, 0, 0), sample(1e9, 1.5e9, 0.2e9), 100e6);
    expect(rows.map((r) => [r.container, r.cpuPercent, r.memUsageBytes, r.memLimitBytes, r.memPercent, r.pids])).toEqual([
      ['', 150, 20e6, 100e6, 20, 3],
      ['web', 20, 10e6, 40e6, 25, 2],
    ]);
    expect(statsRows(undefined, sample(1e9, 1, 1), 100e6)[0]!.cpuPercent).toBeNull();
  });
});
