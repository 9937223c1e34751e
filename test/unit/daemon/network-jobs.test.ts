import { describe, expect, it } from 'vitest';
import { NetworkJobs } from '../../../src/daemon/network-jobs.js';

describe('NetworkJobs', () => {
  it('runs each pod once, logs its problems and settles after every job, those added meanwhile too', async () => {
    const log: string[] = [];
    const jobs = new NetworkJobs((m) => log.push(m));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    jobs.add({
      podId: 'u1',
      pod: 'web',
      run: async (warn) => {
        runs++;
        await gate;
        warn('bridge: DEL failed');
        jobs.add({ podId: 'u2', pod: 'db', run: () => Promise.reject(new Error('boom')) });
      },
    });
    jobs.add({ podId: 'u1', pod: 'web', run: async () => void runs++ });
    expect(jobs.pending('u1')).toBe(true);
    let settled = false;
    const done = jobs.settled().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    release();
    await done;
    expect(runs).toBe(1);
    expect(jobs.size()).toBe(0);
    expect(log).toEqual(['network teardown of pod web (u1): bridge: DEL failed', 'network teardown of pod db (u2): boom']);
  });
});
