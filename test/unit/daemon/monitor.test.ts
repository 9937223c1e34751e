import { describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR, containerMonitor } from '../../../src/daemon/monitor.js';
import { UserError } from '../../../src/errors.js';

const installed = { MINIPOD_CONMON: '/bin/sh' };
const missing = { MINIPOD_CONMON: '/nonexistent/conmon' };

describe('containerMonitor', () => {
  it('takes what MINIPOD_CONTAINER_MONITOR asks', () => {
    const log: string[] = [];
    expect(containerMonitor({ ...installed, MINIPOD_CONTAINER_MONITOR: 'conmon' }, (m) => log.push(m))).toBe('conmon');
    expect(containerMonitor({ ...missing, MINIPOD_CONTAINER_MONITOR: 'daemon' }, (m) => log.push(m))).toBe('daemon');
    expect(log).toEqual([]);
  });

  it('refuses an unknown monitor, and conmon asked for but not installed', () => {
    expect(() => containerMonitor({ MINIPOD_CONTAINER_MONITOR: 'shim' }, () => {})).toThrow(UserError);
    expect(() => containerMonitor({ ...missing, MINIPOD_CONTAINER_MONITOR: 'conmon' }, () => {})).toThrow(
      /\/nonexistent\/conmon is not installed \(apt-get install conmon\)/,
    );
  });

  it('uses the default when nothing is asked, falling back to the daemon with a warning when conmon is missing', () => {
    expect(containerMonitor(installed, () => {})).toBe(DEFAULT_MONITOR);
    const log: string[] = [];
    expect(containerMonitor(missing, (m) => log.push(m))).toBe('daemon');
    expect(log).toEqual(
      DEFAULT_MONITOR === 'conmon' ? ['/nonexistent/conmon is not installed: the daemon holds containers (they die with it)'] : [],
    );
  });
});
