/**
 * `minipod explain` against the kernel (root): for real pods, every inode, pid, cgroup limit,
 * mount and capability in explain's JSON is compared with what this test reads itself from /proc
 * and /sys/fs/cgroup (not through explain's reader). Then the record is made wrong on purpose:
 * a memory limit written by hand, a container killed while its supervisor is frozen (SIGSTOP,
 * so the record still says running), and explain must report both.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainSnapshot, Member } from '../../src/explain/snapshot.js';
import {
  BUSYBOX_ROOTFS,
  inspect,
  isRoot,
  makeTestEnv,
  minipodSync,
  networkSkipReason,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const NS = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'user', 'time'] as const;

function nsInode(pid: number, type: string): number {
  return Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${type}`))![1]);
}

/** The file holding the memory limit of the process's cgroup: v1 memory hierarchy, else cgroup2. */
function memoryLimitFile(pid: number): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (v1 && fs.existsSync('/sys/fs/cgroup/memory')) return `/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.limit_in_bytes`;
  const v2 = lines.find((l) => l.startsWith('0::'))!;
  return `/sys/fs/cgroup${v2.slice(3)}/memory.max`;
}

function explainJson(t: TestEnv, pod: string): ExplainSnapshot {
  const r = minipodSync(t, ['explain', pod, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ExplainSnapshot;
}

function member(s: ExplainSnapshot, name: string): Member {
  const m = s.members.find((x) => x.name === name);
  expect(m, `member ${name}`).toBeDefined();
  return m!;
}

function groupsOf(s: ExplainSnapshot, type: string): [string, string][] {
  return s.namespaces.filter((g) => g.type === type).map((g) => [g.scope, g.members.join(',')]);
}

/** Every fact explain reports for a running member, checked against /proc by this test. */
function expectMatchesProc(m: Member): void {
  const p = m.process!;
  expect(p, `${m.name} has a process`).toBeTruthy();
  for (const type of NS) expect(p.namespaces[type], `${m.name} ${type}`).toBe(nsInode(p.pid, type));
  const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)![1]!.trim();
  expect(p.capabilities?.effectiveHex).toBe(field('CapEff'));
  expect(p.capabilities?.boundingHex).toBe(field('CapBnd'));
  expect(p.noNewPrivs).toBe(field('NoNewPrivs') === '1');
  expect(p.seccomp).toBe(['disabled', 'strict', 'filter'][Number(field('Seccomp'))]);
  expect(p.uid).toEqual(field('Uid').split(/\s+/).map(Number));
  expect(p.nspid).toEqual(field('NSpid').split(/\s+/).map(Number));
  const uidMap = fs.readFileSync(`/proc/${p.pid}/uid_map`, 'utf8').trim().split(/\s+/).map(Number);
  expect(p.uidMap[0]).toEqual({ inside: uidMap[0], outside: uidMap[1], count: uidMap[2] });
  const limit = fs.readFileSync(memoryLimitFile(p.pid), 'utf8').trim();
  expect(m.cgroup?.limits.memoryMaxBytes, `${m.name} memory limit`).toBe(
    limit === 'max' || Number(limit) >= 2 ** 62 ? null : Number(limit),
  );
  expect(m.cgroup?.usage.memoryCurrentBytes).toBeGreaterThan(0);
  expect(m.cgroup?.usage.pidsCurrent).toBeGreaterThanOrEqual(1);
}

function pod(name: string, spec: object, annotations: Record<string, string> = { 'minipod.io/network': 'none' }): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, annotations },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...spec },
  };
}

const sleeper = (name: string, memory = '48Mi') => ({
  name,
  image: BUSYBOX_ROOTFS,
  command: ['sh', '-c', 'sleep 1000 & wait'],
  resources: { limits: { memory, cpu: '250m' } },
});

describe.skipIf(!isRoot)('minipod explain (root)', () => {
  let t: TestEnv;
  beforeAll(() => (t = makeTestEnv('explain')));
  afterAll(() => t?.cleanup());

  async function start(name: string, manifest: object): Promise<void> {
    const r = minipodSync(t, ['run', '-d', writeManifest(t, `${name}.json`, manifest)]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(`${name} running`, () => inspect(t, name)?.containers.every((c) => c.init || c.state === 'running'));
  }
  const remove = (name: string) => expect(minipodSync(t, ['rm', '-f', name]).code).toBe(0);

  it('reads a shared-PID pod exactly as /proc and the cgroup files have it', async () => {
    await start('shared', pod('shared', { containers: [sleeper('a'), sleeper('b')] }));
    const info = inspect(t, 'shared')!;
    const s = explainJson(t, 'shared');
    expect(s.schema).toBe('minipod.io/explain/v1');
    expect(s.members.map((m) => [m.name, m.kind])).toEqual([
      ['init', 'init'],
      ['a', 'container'],
      ['b', 'container'],
    ]);
    expect(member(s, 'init').process?.pid).toBe(info.init!.pid);
    for (const c of info.containers) expect(member(s, c.name).process?.pid).toBe(c.pid);
    for (const m of s.members) expectMatchesProc(m);
    for (const type of ['pid', 'ipc', 'net', 'uts']) expect(groupsOf(s, type), type).toEqual([['pod', 'init,a,b']]);
    expect(groupsOf(s, 'mnt')).toEqual([
      ['private', 'init'],
      ['private', 'a'],
      ['private', 'b'],
    ]);
    // The shell's `sleep` child shows in the tree, and the container is not PID 1 inside.
    const a = member(s, 'a').process!;
    expect(a.children.map((c) => c.comm)).toEqual(['sleep']);
    expect(a.nspid).toHaveLength(2);
    expect(member(s, 'init').process!.nspid.at(-1)).toBe(1);
    expect(member(s, 'a').cgroup?.limits).toMatchObject({ memoryMaxBytes: 48 * 2 ** 20, cpuQuotaUs: 25_000, cpuPeriodUs: 100_000 });
    // The root filesystem is the container's overlay: the upper dir is its own.
    expect(member(s, 'a').rootfs).toMatchObject({ fsType: 'overlay' });
    expect(member(s, 'a').rootfs?.upperDir).toMatch(/\/containers\/a\/upper$/);
    const mountinfo = fs.readFileSync(`/proc/${a.pid}/mountinfo`, 'utf8');
    expect(mountinfo).toContain(`upperdir=${member(s, 'a').rootfs!.upperDir}`);
    // The pod's cgroup with init, a and b below it, and the pod's pids.max.
    expect(s.cgroupTree?.children.map((c) => c.name).sort()).toEqual(['a', 'b', 'init']);
    expect(s.cgroupTree?.limits.pidsMax).toBe(2048);
    expect(s.differences).toEqual([]);
    const text = minipodSync(t, ['explain', 'shared']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`net +${member(s, 'a').process!.namespaces.net} +init, a, b`));
    expect(text.stdout).toContain("minipod's record and the kernel agree.");
    const svg = minipodSync(t, ['explain', 'shared', '--format', 'svg']);
    expect(svg.stdout).toMatch(/^<svg [^]*<\/svg>\n$/);
    remove('shared');
  });

  it('shows a PID namespace per container with shareProcessNamespace: false', async () => {
    await start('ownpid', pod('ownpid', { shareProcessNamespace: false, containers: [sleeper('a'), sleeper('b')] }));
    const s = explainJson(t, 'ownpid');
    for (const m of s.members) expectMatchesProc(m);
    expect(groupsOf(s, 'pid')).toEqual([
      ['private', 'init'],
      ['private', 'a'],
      ['private', 'b'],
    ]);
    for (const type of ['ipc', 'net', 'uts']) expect(groupsOf(s, type), type).toEqual([['pod', 'init,a,b']]);
    // Each container is PID 1 of its own namespace.
    expect(member(s, 'a').process!.nspid.at(-1)).toBe(1);
    expect(member(s, 'b').process!.nspid.at(-1)).toBe(1);
    expect(s.differences).toEqual([]);
    remove('ownpid');
  });

  it("shows a hostNetwork pod in the host's network and UTS namespaces", async () => {
    await start('hostnet', pod('hostnet', { hostNetwork: true, containers: [sleeper('a')] }, {}));
    const s = explainJson(t, 'hostnet');
    for (const m of s.members) expectMatchesProc(m);
    const hostNet = nsInode(process.pid, 'net');
    expect(member(s, 'a').process!.namespaces.net).toBe(hostNet);
    expect(groupsOf(s, 'net')).toEqual([['host', 'init,a']]);
    expect(groupsOf(s, 'uts')).toEqual([['host', 'init,a']]);
    expect(groupsOf(s, 'ipc')).toEqual([['pod', 'init,a']]);
    expect(s.network).toMatchObject({ mode: 'host', hostNetns: true, netns: hostNet, interfaces: [] });
    expect(s.differences).toEqual([]);
    expect(minipodSync(t, ['explain', 'hostnet']).stdout).toContain("hostNetwork: the pod uses the host's network namespace");
    remove('hostnet');
  });

  it("reports a limit changed by hand and a container that died behind its supervisor's back", async () => {
    await start('drift', pod('drift', { containers: [sleeper('a', '64Mi'), sleeper('b')] }));
    const info = inspect(t, 'drift')!;
    const a = info.containers.find((c) => c.name === 'a')!.pid!;
    const b = info.containers.find((c) => c.name === 'b')!.pid!;
    fs.writeFileSync(memoryLimitFile(a), String(32 * 2 ** 20));
    // Frozen, the daemon cannot notice b's death: its record still says running with b's pid.
    const daemon = info.supervisor.pid;
    process.kill(daemon, 'SIGSTOP');
    try {
      // Every process of b (the shell and its sleep), so nothing of b is left in its cgroup.
      const procs = `${memoryLimitFile(b).replace(/\/[^/]+$/, '')}/cgroup.procs`;
      for (const pid of fs.readFileSync(procs, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      await waitFor('b gone', () => fs.readFileSync(procs, 'utf8').trim() === '');
      const s = explainJson(t, 'drift');
      expect(member(s, 'a').cgroup?.limits.memoryMaxBytes).toBe(32 * 2 ** 20);
      expect(member(s, 'b').process).toBeNull();
      expect(member(s, 'b').recorded).toMatchObject({ state: 'running', pid: b });
      expect(s.differences).toEqual([
        { subject: 'a', what: 'memory limit', recorded: '64 MiB', kernel: '32 MiB' },
        { subject: 'b', what: 'process', recorded: `running as pid ${b}`, kernel: 'no such process: it is gone' },
      ]);
      const text = minipodSync(t, ['explain', 'drift']).stdout;
      expect(text).toContain("minipod's record and the kernel DISAGREE (2):");
      expect(text).toContain('a: memory limit: minipod recorded 64 MiB; the kernel has 32 MiB');
      expect(text).toContain(`b: process: minipod recorded running as pid ${b}; the kernel has no such process: it is gone`);
    } finally {
      process.kill(daemon, 'SIGCONT');
    }
    remove('drift');
  });

  it.skipIf(!!networkSkipReason())('reads the pod IP, veth pair and published port of a bridge pod', async () => {
    const port = 18380 + (process.pid % 50);
    const c = { ...sleeper('web'), command: ['httpd', '-f', '-p', '80', '-h', '/'], ports: [{ containerPort: 80, hostPort: port }] };
    await start('net', pod('net', { containers: [c] }, {}));
    const info = inspect(t, 'net')!;
    const s = await waitFor('the port listening', () => {
      const snap = explainJson(t, 'net');
      return snap.network.ports[0]?.listening ? snap : undefined;
    });
    expect(s.network.ip).toBe(info.network!.ip);
    const eth = s.network.interfaces.find((i) => i.name === 'eth0')!;
    expect(eth.addresses[0]).toBe(`${info.network!.ip}/24`);
    // The peer is on the host: its iflink is eth0's ifindex, and it is a port of the bridge.
    const peer = eth.peer!;
    expect(fs.readFileSync(`/sys/class/net/${peer.name}/iflink`, 'utf8').trim()).toBe(String(eth.ifindex));
    expect(fs.readFileSync(`/sys/class/net/${peer.name}/ifindex`, 'utf8').trim()).toBe(String(peer.ifindex));
    expect(fs.realpathSync(`/sys/class/net/${peer.name}/master`).split('/').pop()).toBe(peer.master);
    expect(s.network.ports).toEqual([
      { container: 'web', containerPort: 80, hostPort: port, hostIP: '', protocol: 'TCP', dnat: true, listening: true },
    ]);
    const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
    expect(nat).toMatch(new RegExp(`--dport ${port} .*--to-destination ${info.network!.ip!.replace(/\./g, '\\.')}:80`));
    expect(s.differences).toEqual([]);
    remove('net');
  });
});
