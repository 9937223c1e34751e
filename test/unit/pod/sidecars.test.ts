/**
 * Sidecar containers (init containers with restartPolicy Always) in the supervisor's sequence,
 * against the fake host as in supervisor.test.ts: start order, restart whatever the pod's
 * policy, the pod completing once its app containers are done, and the stop order.
 */
import { describe, expect, it, vi } from 'vitest';
import { HelperFailed } from '../../../src/process/helper-client.js';
import { readPodState } from '../../../src/state/pod-state.js';
import { terminationOrder } from '../../../src/pod/termination-order.js';
import { psRows } from '../../../src/cli/ps.js';

import { paths, host, events, supervisor, containerPlans, until } from './supervisor-fixture.js';

const order = () => host.log.filter((l) => l.startsWith('plan p/') || l.startsWith('signal')).map((l) => l.replace(/ -> \d+/, ''));

describe('sidecar containers', () => {
  it('starts the next init container once a sidecar has started, and keeps the sidecar running', async () => {
    host.script.setup = [0];
    host.script.migrate = [0];
    const s = supervisor({
      restartPolicy: 'Never',
      initContainers: [
        { name: 'setup', image: './i' },
        { name: 'proxy', image: './i', restartPolicy: 'Always' },
        { name: 'migrate', image: './i' },
      ],
      containers: [{ name: 'app', image: './i' }],
    });
    await s.start();
    expect(order()).toEqual(['plan p/init', 'plan p/setup', 'plan p/proxy', 'plan p/migrate', 'plan p/app']);
    const state = readPodState(paths, 'p')!;
    expect(state.containers.map((c) => [c.name, c.state, c.init, c.sidecar ?? false])).toEqual([
      ['setup', 'terminated', true, false],
      ['proxy', 'running', true, true],
      ['migrate', 'terminated', true, false],
      ['app', 'running', false, false],
    ]);
    expect(state.containers[1]!.started).toBe(true);
    await s.stop();
  });

  it('restarts a sidecar that exits, with back-off, even under restartPolicy Never', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    host.script.proxy = [1];
    const s = supervisor({
      restartPolicy: 'Never',
      initContainers: [{ name: 'proxy', image: './i', restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: './i' }],
    });
    await s.start();
    await until(() => events.includes('restarting proxy in 10s (restart 1)'));
    await vi.advanceTimersByTimeAsync(10_000);
    await until(() => containerPlans().filter((p) => p.id === 'p/proxy').length === 2);
    expect(readPodState(paths, 'p')!.containers[0]).toMatchObject({ state: 'running', restartCount: 1 });
    await s.stop();
  });

  it('completes the pod once the app containers are done: sidecars stopped last-started first', async () => {
    host.script.app = [0];
    const s = supervisor(
      {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'logs', image: './i', restartPolicy: 'Always' },
          { name: 'proxy', image: './i', restartPolicy: 'Always' },
        ],
        containers: [{ name: 'app', image: './i' }],
      },
      { keepRecord: true },
    );
    await s.start();
    expect(await s.done).toBe(0);
    const [, logs, proxy] = host.helpers;
    expect(host.steps('signal')).toEqual([`signal ${proxy!.pid} SIGTERM`, `signal ${logs!.pid} SIGTERM`]);
    const state = readPodState(paths, 'p')!;
    // The sidecars' own exits (by our SIGTERM) do not make the pod fail.
    expect(state.phase).toBe('Succeeded');
    expect(state.containers.map((c) => c.state)).toEqual(['terminated', 'terminated', 'terminated']);
  });

  it('stops the app containers first, then each sidecar only once the ones started after it exited', async () => {
    const s = supervisor({
      initContainers: [
        { name: 'logs', image: './i', restartPolicy: 'Always' },
        { name: 'proxy', image: './i', restartPolicy: 'Always' },
      ],
      containers: [
        { name: 'a', image: './i' },
        { name: 'b', image: './i' },
      ],
    });
    await s.start();
    const [, logs, proxy, a, b] = host.helpers;
    expect(await s.stop({ signalExit: 143 })).toBe(143);
    // Each sidecar's SIGTERM comes after the exit of everything started after it.
    expect(host.log.filter((l) => /^(signal|exit)/.test(l) && !l.startsWith(`exit ${host.helpers[0]!.pid}`))).toEqual([
      `signal ${a!.pid} SIGTERM`,
      `signal ${b!.pid} SIGTERM`,
      `exit ${a!.pid} SIGTERM`,
      `exit ${b!.pid} SIGTERM`,
      `signal ${proxy!.pid} SIGTERM`,
      `exit ${proxy!.pid} SIGTERM`,
      `signal ${logs!.pid} SIGTERM`,
      `exit ${logs!.pid} SIGTERM`,
    ]);
  });

  it('fails the pod when a sidecar cannot start at all (its command cannot run)', async () => {
    host.execFailures.proxy = new HelperFailed('exec /nope: no such file or directory', 127);
    const s = supervisor({
      initContainers: [{ name: 'proxy', image: './i', restartPolicy: 'Always' }],
      containers: [{ name: 'app', image: './i' }],
    });
    await s.start();
    expect(await s.done).toBe(127);
    expect(events).toContain('sidecar proxy could not start: the pod failed');
    expect(containerPlans().map((p) => p.id)).toEqual(['p/proxy']);
  });
});

describe('terminationOrder', () => {
  it('puts every non-sidecar in the first group, then the sidecars one by one, last first', () => {
    const c = (name: string, kind: 'init' | 'sidecar' | 'app') => ({ name, kind });
    const order = terminationOrder([c('s1', 'sidecar'), c('i', 'init'), c('s2', 'sidecar'), c('a', 'app'), c('b', 'app')]);
    expect(order.map((g) => g.map((x) => x.name))).toEqual([['i', 'a', 'b'], ['s2'], ['s1']]);
    expect(terminationOrder([c('s1', 'sidecar')]).map((g) => g.map((x) => x.name))).toEqual([['s1']]);
  });
});

describe('ps with sidecars', () => {
  it('counts sidecars in READY and RESTARTS as kubectl does, not plain init containers', () => {
    const base = { image: 'x', cgroupPaths: [], logPath: '' };
    const row = psRows([
      {
        name: 'p',
        phase: 'Running',
        createdAt: new Date().toISOString(),
        supervisor: { pid: process.pid, startTime: -1 },
        hostname: 'p',
        cgroupPaths: [],
        containers: [
          { ...base, name: 'i', init: true, state: 'terminated', restartCount: 2, ready: false },
          { ...base, name: 's', init: true, sidecar: true, state: 'running', restartCount: 1, ready: true },
          { ...base, name: 'a', init: false, state: 'running', restartCount: 0, ready: false },
        ],
        keepRecord: false,
      },
    ])[0]!;
    expect(row.slice(2, 4)).toEqual(['1/2', '1']);
  });
});
