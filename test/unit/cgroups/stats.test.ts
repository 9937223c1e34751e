import { describe, expect, it } from 'vitest';
import { statsRows } from '../../../src/cgroups/stats.js';
import { sample } from './stats-samples.js';

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
