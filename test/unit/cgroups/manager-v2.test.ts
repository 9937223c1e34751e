import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCgroupManager, type CgroupManager } from '../../../src/cgroups/manager.js';
import { planPodCgroups } from '../../../src/cgroups/plan.js';
import { CgroupWriteError } from '../../../src/cgroups/fs.js';
import { FakeCgroupFs } from './fake-cgroupfs.js';
import { container, Mi, pod } from './pod.js';

let fake: FakeCgroupFs;
let m: CgroupManager;

const spec = () => pod([container('web', { memoryBytes: 64 * Mi, cpuMilli: 200 }, { memoryBytes: 32 * Mi }), container('db')]);

beforeEach(() => {
  fake = new FakeCgroupFs('unified');
  m = createCgroupManager({ root: fake.root, parent: 'minipod', fs: fake, mode: 'unified', killTimeoutMs: 500, freezeTimeoutMs: 100 });
});
afterEach(() => fake.cleanup());

describe('v2 manager create', () => {
  it('is chosen for unified mode and wants a v2 plan', () => {
    expect(m.version).toBe('v2');
    expect(() => m.create(planPodCgroups(spec(), { version: 'v1' }))).toThrow(/plan for v1/);
  });

  it('makes <parent>/<pod>/{init,containers} and enables controllers down the path, not in leaves', () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    expect(fake.dirs()).toEqual(['minipod', 'minipod/p', 'minipod/p/db', 'minipod/p/init', 'minipod/p/web']);
    const enabled = (rel: string) => fs.readFileSync(fake.p(rel, 'cgroup.subtree_control'), 'utf8').trim();
    expect(enabled('.')).toBe('cpu memory pids');
    expect(enabled('minipod')).toBe('cpu memory pids');
    expect(enabled('minipod/p')).toBe('cpu memory pids');
    expect(enabled('minipod/p/web')).toBe('');
    // Nothing is ever written into the parent's or pod's cgroup.procs (no internal processes).
    expect(fake.writes.filter((w) => w.file.endsWith('cgroup.procs'))).toEqual([]);
  });

  it('writes the limits of the plan into each cgroup', () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    const read = (rel: string) => fs.readFileSync(fake.p('minipod/p', rel), 'utf8').trim();
    expect(read('web/memory.max')).toBe(String(64 * Mi));
    expect(read('web/memory.min')).toBe(String(32 * Mi));
    expect(read('web/cpu.max')).toBe('20000 100000');
    expect(read('web/memory.swap.max')).toBe('0');
    expect(read('memory.swap.max')).toBe('0');
    expect(read('pids.max')).toBe('2048');
    expect(read('db/memory.max')).toBe('max');
    // The pod's memory.min only protects it if the parent is protected as much.
    expect(fs.readFileSync(fake.p('minipod/memory.min'), 'utf8').trim()).toBe(String(32 * Mi));
  });

  it('does not enable again what is already enabled (the host owns the root)', () => {
    fake.setFile(fake.p('cgroup.subtree_control'), 'cpu memory pids io\n');
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    expect(fake.writes.some((w) => w.file === fake.p('cgroup.subtree_control'))).toBe(false);
  });

  it('on a failed write names file and value, and removes everything it made', () => {
    fake.failWrite = (file) => (file.endsWith('web/memory.max') ? 'EINVAL' : undefined);
    let error: unknown;
    try {
      m.create(planPodCgroups(spec(), { version: 'v2' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CgroupWriteError);
    expect((error as Error).message).toBe(`write ${fake.p('minipod/p/web/memory.max')} = ${64 * Mi}: EINVAL`);
    expect(fake.dirs()).toEqual([]);
  });

  it('keeps a parent that was there before when undoing', () => {
    fs.mkdirSync(fake.p('minipod'));
    fake.setFile(fake.p('minipod/cgroup.controllers'), 'cpu memory pids\n');
    fake.setFile(fake.p('minipod/cgroup.subtree_control'), '');
    fake.failWrite = (file) => (file.endsWith('pids.max') ? 'EINVAL' : undefined);
    expect(() => m.create(planPodCgroups(spec(), { version: 'v2' }))).toThrow(/pids\.max = 2048: EINVAL/);
    expect(fake.dirs()).toEqual(['minipod']);
  });

  it('refuses a pod whose cgroup already exists without touching it', () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    expect(() => m.create(planPodCgroups(spec(), { version: 'v2' }))).toThrow(/mkdir .*minipod\/p: EEXIST/);
    expect(fake.dirs()).toContain('minipod/p/web');
  });
});

describe('v2 manager membership and reading', () => {
  beforeEach(() => m.create(planPodCgroups(spec(), { version: 'v2' })));

  it('has one cgroup.procs per child and adds a process there', () => {
    expect(m.procsFiles('p', 'web')).toEqual([fake.p('minipod/p/web/cgroup.procs')]);
    m.addProcess('p', 'web', 4242);
    m.addProcess('p', 'init', 7);
    expect(m.pids('p', 'web')).toEqual([4242]);
    expect(m.pids('p')).toEqual([7, 4242]);
    expect(m.paths('p', 'web')).toEqual({ unified: fake.p('minipod/p/web') });
  });

  it('reads oom_kill from the container cgroup memory.events', () => {
    expect(m.oomKillCount('p', 'web')).toBe(0);
    fake.setFile(fake.p('minipod/p/web/memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n');
    expect(m.oomKillCount('p', 'web')).toBe(1);
  });

  it('reads stats with the effective limits', () => {
    fake.setFile(
      fake.p('minipod/p/web/cpu.stat'),
      'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 2000\n',
    );
    fake.setFile(fake.p('minipod/p/web/memory.current'), `${10 * Mi}\n`);
    fake.setFile(fake.p('minipod/p/web/memory.stat'), `anon 1\ninactive_file ${2 * Mi}\n`);
    expect(m.stats('p', 'web')).toEqual({
      cpuUsageNs: 1_500_000,
      cpuUserNs: 1_000_000,
      cpuSystemNs: 500_000,
      nrPeriods: 10,
      nrThrottled: 4,
      throttledNs: 2_000_000,
      memoryCurrentBytes: 10 * Mi,
      memoryWorkingSetBytes: 8 * Mi,
      memoryLimitBytes: 64 * Mi,
      pidsCurrent: 0,
      pidsMax: 2048,
    });
    expect(m.effectiveLimits('p', 'web')).toEqual({
      memoryMaxBytes: 64 * Mi,
      memoryMinBytes: 32 * Mi,
      swapMaxBytes: 0,
      cpuLimitMilli: 200,
      cpuWeight: 29, // request defaults to the 200m limit: 204 shares
      pidsMax: 2048,
    });
    // db has no limit and the pod none either (not every container has one).
    expect(m.effectiveLimits('p', 'db').memoryMaxBytes).toBeNull();
  });

  it('populated follows cgroup.events', () => {
    expect(m.populated('p')).toBe(false);
    fake.setFile(fake.p('minipod/p/cgroup.events'), 'populated 1\nfrozen 0\n');
    expect(m.populated('p')).toBe(true);
  });

  it('refuses names that climb out of the pod', () => {
    expect(() => m.procsFiles('p', '../q')).toThrow(/invalid container name/);
    expect(() => m.pids('..')).toThrow(/invalid pod name/);
  });
});

describe('v2 manager teardown', () => {
  it('kill writes cgroup.kill of the pod; destroy removes every dir and the empty parent', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    m.addProcess('p', 'web', 4242);
    expect(m.listPods()).toEqual(['p']);
    await m.destroy('p');
    expect(fake.writesTo('minipod/p/cgroup.kill')).toEqual(['1']);
    expect(fake.dirs()).toEqual([]);
    expect(m.listPods()).toEqual([]);
  });

  it('keeps the parent while another pod uses it, and recomputes its memory.min', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    m.create(planPodCgroups({ ...spec(), name: 'q' }, { version: 'v2' }));
    expect(fs.readFileSync(fake.p('minipod/memory.min'), 'utf8').trim()).toBe(String(64 * Mi));
    await m.destroy('p');
    expect(fake.dirs()).toEqual(['minipod', 'minipod/q', 'minipod/q/db', 'minipod/q/init', 'minipod/q/web']);
    expect(fs.readFileSync(fake.p('minipod/memory.min'), 'utf8').trim()).toBe(String(32 * Mi));
  });

  it('retries rmdir on EBUSY', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    fake.busy.set(fake.p('minipod/p/web'), 3);
    await m.destroy('p');
    expect(fake.dirs()).toEqual([]);
  });

  it('pauses with cgroup.freeze and waits for cgroup.events to say frozen', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    await m.setFrozen('p', 'web', true);
    expect(fake.writesTo('minipod/p/web/cgroup.freeze')).toEqual(['1']);
    expect(m.isFrozen('p', 'web')).toBe(true);
    await m.setFrozen('p', 'web', false);
    expect(fake.writesTo('minipod/p/web/cgroup.freeze')).toEqual(['1', '0']);
    expect(m.isFrozen('p', 'web')).toBe(false);
  });

  it('undoes a freeze that never completes and says why', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    fake.freezeStuck = true;
    await expect(m.setFrozen('p', 'web', true)).rejects.toThrow(/not frozen after/);
    expect(fake.writesTo('minipod/p/web/cgroup.freeze')).toEqual(['1', '0']);
  });

  it('falls back to freeze + SIGKILL when there is no cgroup.kill (kernel < 5.14)', async () => {
    m.create(planPodCgroups(spec(), { version: 'v2' }));
    fs.rmSync(fake.p('minipod/p/cgroup.kill'));
    m.addProcess('p', 'web', 4242);
    m.addProcess('p', 'db', 4343);
    await m.kill('p');
    expect(fake.kills).toEqual([
      { pid: 4242, signal: 'SIGKILL' },
      { pid: 4343, signal: 'SIGKILL' },
    ]);
    expect(fake.writesTo('minipod/p/cgroup.freeze')).toEqual(['1', '0']);
  });

  it('cleans up after a crash half-way, from the filesystem alone', async () => {
    // As if minipod died after mkdir of the pod and one child.
    fs.mkdirSync(fake.p('minipod'));
    fs.mkdirSync(fake.p('minipod/p'));
    fs.mkdirSync(fake.p('minipod/p/web'));
    expect(m.listPods()).toEqual(['p']);
    await m.destroy('p');
    expect(fake.dirs()).toEqual([]);
  });

  it('destroy of a pod that has no cgroups is a no-op', async () => {
    await m.destroy('nothing');
    expect(fake.dirs()).toEqual([]);
  });

  it('a nested parent is created and removed level by level', async () => {
    const nested = createCgroupManager({ root: fake.root, parent: 'minipod-test/a', fs: fake, mode: 'unified' });
    nested.create(planPodCgroups(spec(), { version: 'v2' }));
    expect(fake.dirs()).toContain('minipod-test/a/p/web');
    expect(nested.procsFiles('p', 'web')).toEqual([path.join(fake.root, 'minipod-test/a/p/web/cgroup.procs')]);
    await nested.destroy('p');
    expect(fake.dirs()).toEqual([]);
  });
});
