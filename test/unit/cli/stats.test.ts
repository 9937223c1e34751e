import { describe, expect, it } from 'vitest';
import { statsRows } from '../../../src/cgroups/stats.js';
import { humanSize, renderStatsTable, statsCommand } from '../../../src/cli/stats.js';
import { sample, stats } from '../cgroups/stats-samples.js';

describe('minipod stats', () => {
  it('renders like podman stats', () => {
    const text = renderStatsTable(statsRows(sample(0, 0, 0), sample(1e9, 1.5e9, 0.2e9), 100e6));
    expect(text.split('\n')).toEqual([
      'POD  NAME   CPU %    MEM USAGE / LIMIT  MEM %   PIDS',
      'p    (pod)  150.00%  20MB / 100MB       20.00%  3',
      'p    web    20.00%   10MB / 40MB        25.00%  2',
    ]);
    expect(humanSize(1_634_000)).toBe('1.634MB');
    expect(humanSize(512)).toBe('512B');
  });

  it('statsCommand --no-stream --format json prints one JSON array after two samples', async () => {
    let cpu = 0;
    const manager = {
      stats: () => stats({ cpuUsageNs: (cpu += 1e6) }),
    } as unknown as Parameters<typeof statsCommand>[0]['manager'];
    let out = '';
    await statsCommand({
      manager,
      pods: () => [{ name: 'p', containers: ['web'] }],
      noStream: true,
      format: 'json',
      intervalMs: 10,
      write: (t) => (out += t),
    });
    const rows = JSON.parse(out);
    expect(rows.map((r: { container: string }) => r.container)).toEqual(['', 'web']);
    expect(rows[0].cpuPercent).toBeGreaterThan(0);
  });
});
