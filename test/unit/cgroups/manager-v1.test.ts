import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createCgroupManager, type CgroupManager } from '../../../src/cgroups/manager.js';
import { planPodCgroups } from '../../../src/cgroups/plan.js';
import { FakeCgroupFs, type FakeMode } from './fake-cgroupfs.js';
import { container, Mi, pod } from './pod.js';

let fake: FakeCgroupFs | undefined;
afterEach(() => fake?.cleanup());

function setup(mode: Exclude<FakeMode, 'unified'>, opts: { memsw?: boolean; comountCpu?: boolean } = {}): [FakeCgroupFs, CgroupManager] {
  fake = new FakeCgroupFs(mode, opts);
  return [fake, createCgroupManager({ root: fake.root, parent: 'minipod', fs: fake, mode, killTimeoutMs: 500, freezeTimeoutMs: 100 })];
}

const spec = () => pod([container('web', { memoryBytes: 64 * Mi, cpuMilli: 200 }), container('db')]);
const plan = () => planPodCgroups(spec(), { version: 'v1' });
const HIERARCHIES = ['cpuset', 'cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices', 'systemd'];

describe('v1 manager (hybrid host)', () => {
  it('creates the same relative path in every hierarchy, unified included', () => {
    const [f, m] = setup('hybrid');
    expect(m.version).toBe('v1');
    m.create(plan());
    for (const h of [...HIERARCHIES, 'unified']) {
      for (const child of ['init', 'web', 'db']) expect(fs.existsSync(f.p(h, 'minipod/p', child))).toBe(true);
    }
    expect(m.procsFiles('p', 'web')).toEqual([...HIERARCHIES, 'unified'].map((h) => f.p(h, 'minipod/p/web/cgroup.procs')));
  });

  it('writes limits to the controller hierarchies', () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    const read = (rel: string) => fs.readFileSync(f.p(rel), 'utf8').trim();
    expect(read('memory/minipod/p/web/memory.limit_in_bytes')).toBe(String(64 * Mi));
    expect(read('memory/minipod/p/web/memory.memsw.limit_in_bytes')).toBe(String(64 * Mi));
    expect(read('memory/minipod/p/memory.limit_in_bytes')).toBe('9223372036854771712');
    expect(read('cpu/minipod/p/web/cpu.cfs_quota_us')).toBe('20000');
    expect(read('cpu/minipod/p/web/cpu.cfs_period_us')).toBe('100000');
    expect(read('cpu/minipod/p/web/cpu.shares')).toBe('204');
    expect(read('pids/minipod/p/pids.max')).toBe('2048');
    // The order matters to the kernel: memsw after memory, quota after period.
    const files = f.writes.map((w) => w.file.replace(f.root, ''));
    expect(files.indexOf('/memory/minipod/p/web/memory.limit_in_bytes')).toBeLessThan(
      files.indexOf('/memory/minipod/p/web/memory.memsw.limit_in_bytes'),
    );
  });

  it('copies cpuset.cpus and cpuset.mems down from the parent so tasks can join', () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    for (const rel of ['minipod', 'minipod/p', 'minipod/p/web', 'minipod/p/init']) {
      expect(fs.readFileSync(f.p('cpuset', rel, 'cpuset.cpus'), 'utf8')).toBe('0-3');
      expect(fs.readFileSync(f.p('cpuset', rel, 'cpuset.mems'), 'utf8')).toBe('0');
    }
  });

  it('skips memsw when swap accounting is off', () => {
    const [f, m] = setup('legacy', { memsw: false });
    m.create(plan());
    expect(f.writesTo('memory.memsw.limit_in_bytes')).toEqual([]);
    expect(fs.readFileSync(f.p('memory/minipod/p/web/memory.limit_in_bytes'), 'utf8')).toBe(String(64 * Mi));
  });

  it('creates once in co-mounted cpu,cpuacct and finds it by either name', () => {
    const [f, m] = setup('legacy', { comountCpu: true });
    m.create(plan());
    expect(fs.readFileSync(f.p('cpu,cpuacct/minipod/p/web/cpu.cfs_quota_us'), 'utf8')).toBe('20000');
    const files = m.procsFiles('p', 'web');
    expect(files.filter((x) => x.includes('cpu')).length).toBe(2); // cpuset + cpu (cpuacct is the same tree)
    f.setFile(f.p('cpu,cpuacct/minipod/p/web/cpuacct.usage'), '123456\n');
    expect(m.stats('p', 'web').cpuUsageNs).toBe(123456);
  });

  it('on a failed write names file and value and removes its dirs in every hierarchy', () => {
    const [f, m] = setup('hybrid');
    f.failWrite = (file, value) => (file.endsWith('web/memory.limit_in_bytes') && value === String(64 * Mi) ? 'EINVAL' : undefined);
    expect(() => m.create(plan())).toThrow(`write ${f.p('memory/minipod/p/web/memory.limit_in_bytes')} = ${64 * Mi}: EINVAL`);
    expect(f.dirs()).toEqual([...HIERARCHIES, 'unified'].sort());
  });

  it('reads oom_kill from memory.oom_control of the container', () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    f.setFile(f.p('memory/minipod/p/web/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n');
    expect(m.oomKillCount('p', 'web')).toBe(3);
    expect(m.oomKillCount('p', 'db')).toBe(0);
  });

  it('reads stats and effective limits from the v1 files', () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    f.setFile(f.p('cpuacct/minipod/p/web/cpuacct.usage'), '5000000\n');
    f.setFile(f.p('cpuacct/minipod/p/web/cpuacct.stat'), 'user 30\nsystem 20\n');
    f.setFile(f.p('cpu/minipod/p/web/cpu.stat'), 'nr_periods 12\nnr_throttled 7\nthrottled_time 900\n');
    f.setFile(f.p('memory/minipod/p/web/memory.usage_in_bytes'), `${5 * Mi}\n`);
    f.setFile(f.p('memory/minipod/p/web/memory.stat'), `cache 0\ntotal_inactive_file ${Mi}\n`);
    f.setFile(f.p('pids/minipod/p/web/pids.current'), '3\n');
    expect(m.stats('p', 'web')).toEqual({
      cpuUsageNs: 5_000_000,
      cpuUserNs: 300_000_000,
      cpuSystemNs: 200_000_000,
      nrPeriods: 12,
      nrThrottled: 7,
      throttledNs: 900,
      memoryCurrentBytes: 5 * Mi,
      memoryWorkingSetBytes: 4 * Mi,
      memoryLimitBytes: 64 * Mi,
      pidsCurrent: 3,
      pidsMax: 2048,
    });
    expect(m.effectiveLimits('p', 'web')).toEqual({
      memoryMaxBytes: 64 * Mi,
      memoryMinBytes: 64 * Mi, // the request defaults to the limit; v1 keeps it as the soft limit
      swapMaxBytes: 0,
      cpuLimitMilli: 200,
      cpuShares: 204,
      pidsMax: 2048,
    });
    expect(m.paths('p', 'web').memory).toBe(f.p('memory/minipod/p/web'));
    expect(m.paths('p', 'web').unified).toBe(f.p('unified/minipod/p/web'));
  });

  it('kills through unified cgroup.kill, then destroys every hierarchy and the empty parent', async () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    m.addProcess('p', 'web', 4242);
    expect(m.pids('p')).toEqual([4242]);
    await m.destroy('p');
    expect(f.writesTo('unified/minipod/p/cgroup.kill')).toEqual(['1']);
    expect(f.dirs()).toEqual([...HIERARCHIES, 'unified'].sort());
  });
});

describe('v1 manager (legacy host)', () => {
  it('has no unified hierarchy', () => {
    const [f, m] = setup('legacy');
    m.create(plan());
    expect(Object.keys(m.paths('p', 'web'))).toEqual(HIERARCHIES);
    expect(f.dirs()).not.toContain('unified');
  });

  it('kills with freezer FROZEN, SIGKILL, THAWED until empty', async () => {
    const [f, m] = setup('legacy');
    m.create(plan());
    m.addProcess('p', 'web', 4242);
    f.seedPid(f.p('memory/minipod/p/db'), 5555); // joined only one hierarchy
    await m.kill('p');
    expect(f.kills.map((k) => k.pid).sort()).toEqual([4242, 5555]);
    expect(f.writesTo('freezer/minipod/p/freezer.state')).toEqual(['FROZEN', 'THAWED']);
    expect(m.pids('p')).toEqual([]);
    expect(m.populated('p')).toBe(false);
  });

  it('pauses and resumes with freezer.state, and shows it frozen in between', async () => {
    const [f, m] = setup('hybrid');
    m.create(plan());
    expect(m.isFrozen('p', 'web')).toBe(false);
    await m.setFrozen('p', 'web', true);
    expect(f.writesTo('freezer/minipod/p/web/freezer.state')).toEqual(['FROZEN']);
    expect(m.isFrozen('p', 'web')).toBe(true);
    await m.setFrozen('p', 'web', false);
    expect(m.isFrozen('p', 'web')).toBe(false);
    expect(f.writesTo('unified/minipod/p/web/cgroup.freeze')).toEqual([]);
  });

  it('thaws again and fails when a task never freezes', async () => {
    const [f, m] = setup('legacy');
    m.create(plan());
    f.freezeStuck = true;
    await expect(m.setFrozen('p', 'web', true)).rejects.toThrow(/freezer\.state|FREEZING/);
    expect(f.writesTo('freezer/minipod/p/web/freezer.state').at(-1)).toBe('THAWED');
    expect(m.isFrozen('p', 'web')).toBe(false);
  });

  it('writes updated limits to an existing cgroup, skipping optional files the host lacks', () => {
    const [f, m] = setup('hybrid', { memsw: false });
    m.create(plan());
    m.applyWrites('p', 'web', [
      { controller: 'memory', file: 'memory.limit_in_bytes', value: String(32 * Mi) },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(32 * Mi), optional: true },
      { controller: 'pids', file: 'pids.max', value: '10' },
    ]);
    expect(fs.readFileSync(f.p('memory/minipod/p/web/memory.limit_in_bytes'), 'utf8')).toBe(String(32 * Mi));
    expect(fs.readFileSync(f.p('pids/minipod/p/web/pids.max'), 'utf8')).toBe('10');
    expect(() => m.applyWrites('p', 'web', [{ controller: 'memory', file: 'memory.nope', value: '1' }])).toThrow(
      /memory\.nope = 1: ENOENT/,
    );
  });

  it('gives up with the pids that would not die', async () => {
    const [f, m] = setup('legacy');
    m.create(plan());
    m.addProcess('p', 'web', 4242);
    f.kill = () => {}; // an unkillable process
    await expect(m.kill('p')).rejects.toThrow(/still in its cgroups after 500 ms: 4242/);
    expect(f.writesTo('freezer.state').at(-1)).toBe('THAWED');
  });

  it('cleans up a pod present in only some hierarchies (crash half-way) and lists it for gc', async () => {
    const [f, m] = setup('legacy');
    fs.mkdirSync(f.p('memory/minipod/p/web'), { recursive: true });
    fs.mkdirSync(f.p('pids/minipod/q'), { recursive: true });
    expect(m.listPods()).toEqual(['p', 'q']);
    await m.destroy('p');
    await m.destroy('q');
    expect(f.dirs()).toEqual(HIERARCHIES.slice().sort());
  });
});
