import { describe, expect, it } from 'vitest';
import { age, psRows, renderTable } from '../../../src/cli/ps.js';
import type { PodState } from '../../../src/state/pod-state.js';

const state = (over: Partial<PodState> = {}): PodState => ({
  name: 'web',
  phase: 'Succeeded',
  createdAt: new Date(Date.now() - 90_000).toISOString(),
  supervisor: { pid: 1, startTime: -1 },
  hostname: 'web',
  cgroupPaths: [],
  network: { mode: 'bridge', ip: '10.89.0.2', ports: [{ hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'TCP' }] },
  containers: [
    { name: 'i', init: true, image: 'x', state: 'terminated', restartCount: 0, ready: false, cgroupPaths: [], logPath: '' },
    { name: 'a', init: false, image: 'x', state: 'running', restartCount: 2, ready: true, cgroupPaths: [], logPath: '' },
    { name: 'b', init: false, image: 'x', state: 'running', restartCount: 1, ready: false, cgroupPaths: [], logPath: '' },
  ],
  ...over,
});

describe('ps', () => {
  it('counts ready app containers and restarts, shows ports only while the pod lives', () => {
    expect(psRows([state({ phase: 'Succeeded' })])[0]).toEqual(['web', 'Succeeded', '1/2', '3', '90s', '', '']);
  });
  it('names the object a pod belongs to', () => {
    expect(psRows([state({ owner: { kind: 'Deployment', name: 'web', ordinal: 1 } })])[0]![5]).toBe('Deployment/web');
  });
  it('shows a pod whose supervisor is gone as Unknown', () => {
    const row = psRows([state({ phase: 'Running', supervisor: { pid: 999_999_999, startTime: 1 } })])[0]!;
    expect(row[1]).toBe('Unknown');
    expect(row[6]).toBe('0.0.0.0:8080->80/tcp');
  });
  it('formats ages like kubectl', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect([5, 119, 600, 7300, 200_000].map((s) => age(new Date(now - s * 1000).toISOString(), now))).toEqual([
      '5s',
      '119s',
      '10m',
      '2h',
      '2d',
    ]);
  });
  it('aligns columns', () => {
    expect(renderTable(['A', 'BB'], [['xxx', 'y']])).toBe('A     BB\nxxx   y\n');
  });
});
