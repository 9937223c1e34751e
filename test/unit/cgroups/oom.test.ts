import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCgroupManager, type CgroupManager } from '../../../src/cgroups/manager.js';
import { oomVerdict, watchOomKills } from '../../../src/cgroups/oom.js';
import { planPodCgroups } from '../../../src/cgroups/plan.js';
import { guardOom } from '../../../src/pod/oom-guard.js';
import { FakeCgroupFs, type FakeMode } from './fake-cgroupfs.js';
import { container, Mi, pod } from './pod.js';

let fake: FakeCgroupFs | undefined;
afterEach(() => {
  fake?.cleanup();
  vi.useRealTimers();
});

function setup(mode: FakeMode): [FakeCgroupFs, CgroupManager] {
  fake = new FakeCgroupFs(mode);
  const m = createCgroupManager({ root: fake.root, parent: 'minipod', fs: fake, mode, killTimeoutMs: 500 });
  m.create(planPodCgroups(pod([container('web', { memoryBytes: 64 * Mi }), container('db')]), { version: m.version }));
  return [fake, m];
}

describe('oomVerdict', () => {
  it('reports 137 OOMKilled when a child was OOM-killed and the main process then exited 0', () => {
    expect(oomVerdict(0, 1)).toEqual({ exitCode: 137, oomKilled: true });
  });

  it('keeps the exit of a container without an OOM kill since its start', () => {
    expect(oomVerdict(137, 0)).toEqual({ exitCode: 137, oomKilled: false });
    expect(oomVerdict(3, 0)).toEqual({ exitCode: 3, oomKilled: false });
  });
});

describe('watchOomKills', () => {
  it('calls back once, the first time the counter passes the baseline', () => {
    vi.useFakeTimers();
    let count = 2;
    const seen: number[] = [];
    watchOomKills({ read: () => count, baseline: 2, onOomKill: (k) => seen.push(k), everyMs: 100 });
    vi.advanceTimersByTime(500);
    expect(seen).toEqual([]);
    count = 3;
    vi.advanceTimersByTime(100);
    count = 5;
    vi.advanceTimersByTime(500);
    expect(seen).toEqual([1]);
  });

  it('stops when told, and when the cgroup is gone', () => {
    vi.useFakeTimers();
    const read = vi.fn(() => {
      throw new Error('ENOENT');
    });
    const stop = watchOomKills({ read, baseline: 0, onOomKill: () => expect.fail('no kill'), everyMs: 100 });
    vi.advanceTimersByTime(250);
    stop();
    vi.advanceTimersByTime(1000);
    expect(read).toHaveBeenCalledTimes(2);
  });
});

describe('killContainer: the group kill of one container', () => {
  it('v2: writes cgroup.kill of the container only', async () => {
    const [f, m] = setup('unified');
    f.seedPid(f.p('minipod/p/web'), 100);
    f.seedPid(f.p('minipod/p/db'), 200);
    await m.killContainer('p', 'web');
    expect(f.writesTo('minipod/p/web/cgroup.kill')).toEqual(['1']);
    expect(m.pids('p', 'web')).toEqual([]);
    expect(m.pids('p', 'db')).toEqual([200]);
  });

  it('hybrid: cgroup.kill of the unified tree, then SIGKILL for what joined only v1', async () => {
    const [f, m] = setup('hybrid');
    for (const h of ['memory', 'unified']) f.seedPid(f.p(h, 'minipod/p/web'), 100);
    f.seedPid(f.p('pids/minipod/p/web'), 101); // joined one v1 hierarchy only
    f.seedPid(f.p('memory/minipod/p/db'), 200);
    await m.killContainer('p', 'web');
    expect(f.writesTo('unified/minipod/p/web/cgroup.kill')).toEqual(['1']);
    expect(f.kills.map((k) => k.pid)).toContain(101);
    expect(m.pids('p', 'web')).toEqual([]);
    expect(m.pids('p', 'db')).toEqual([200]);
  });

  it('legacy: SIGKILL to every process of the container', async () => {
    const [f, m] = setup('legacy');
    f.seedPid(f.p('memory/minipod/p/web'), 100);
    f.seedPid(f.p('pids/minipod/p/web'), 101);
    await m.killContainer('p', 'web');
    expect(f.kills.map((k) => k.pid).sort()).toEqual([100, 101]);
    expect(m.pids('p', 'web')).toEqual([]);
  });
});

describe('guardOom on the v1 counter (memory.oom_control)', () => {
  it('kills the whole container when a process in it was OOM-killed', async () => {
    vi.useFakeTimers();
    const [f, m] = setup('hybrid');
    for (const h of ['memory', 'unified']) f.seedPid(f.p(h, 'minipod/p/web'), 100);
    const events: string[] = [];
    guardOom({ cgroups: m, output: { event: (t) => events.push(t) } }, 'p', 'web', m.oomKillCount('p', 'web'), 50);
    vi.advanceTimersByTime(200);
    expect(m.pids('p', 'web')).toEqual([100]);
    f.setFile(f.p('memory/minipod/p/web/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    await vi.advanceTimersByTimeAsync(300);
    expect(m.pids('p', 'web')).toEqual([]);
    expect(f.writesTo('unified/minipod/p/web/cgroup.kill')).toEqual(['1']);
    expect(events).toEqual(['container web: the kernel OOM-killed a process in it; killing the container']);
  });
});
