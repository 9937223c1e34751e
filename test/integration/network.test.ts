/**
 * Pod networking with the real CNI plugins (root only). Namespaces are held by
 * `unshare --net sleep` processes, like a pod's init holds the pod's. Traffic goes only to
 * loopback and the pods' own addresses. The host must look the same afterwards: no veth, no
 * minipod0, no CNI iptables rule, empty IPAM store, ip_forward as before.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerPort, PodSpec } from '../../src/manifest/types.js';
import { minipodPaths, type MinipodPaths } from '../../src/paths.js';
import { checkHostPorts, gcNetwork, setupPodNetwork, teardownPodNetwork, type PodNetworkStatus } from '../../src/network/index.js';
import { renderDefaultConfList } from '../../src/network/default-config.js';
import { container, pod } from '../unit/network/fixtures.js';
import { networkSkipReason } from '../support/minipod.js';

const skipReason = networkSkipReason();
if (skipReason) console.warn(`network integration tests skipped: ${skipReason}`);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const shQuiet = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

function webPod(name: string, ports: ContainerPort[], extra: Partial<PodSpec> = {}): PodSpec {
  return pod({ name, hostname: name, containers: [container('web', ports)], ...extra });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // No keep-alive: a reused connection would hit a torn-down pod's old DNAT mapping.
    const req = http.get({ host, port, path: '/', timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${host}:${port}`)));
    req.on('error', reject);
  });
}

async function getEventually(host: string, port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await get(host, port);
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  throw last;
}

describe.skipIf(!!skipReason)('pod network with CNI (root)', () => {
  const rand = Math.random().toString(36).slice(2, 8);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `minipod-net-${rand}-`));
  const paths: MinipodPaths = minipodPaths({
    MINIPOD_RUN_DIR: path.join(tmp, 'run'),
    MINIPOD_LIB_DIR: path.join(tmp, 'lib'),
    MINIPOD_CNI_CONF_DIR: path.join(tmp, 'cni'),
    MINIPOD_LOG_DIR: path.join(tmp, 'log'),
  });
  const procs: ChildProcess[] = [];
  const ipForwardBefore = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const linksBefore = sh('ip', ['-o', 'link'])
    .split('\n')
    .map((l) => l.split(':')[1]?.trim())
    .filter(Boolean);
  const nftBefore = shQuiet('nft', ['list', 'tables']);
  const netnsBefore = sh('ip', ['netns', 'list']);
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  /** A process in a fresh network namespace, standing in for a pod's init. */
  async function holder(): Promise<{ proc: ChildProcess; netns: string }> {
    const proc = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
    procs.push(proc);
    const ours = fs.statSync('/proc/self/ns/net').ino;
    const netns = `/proc/${proc.pid}/ns/net`;
    for (let i = 0; i < 100; i++) {
      try {
        if (fs.statSync(netns).ino !== ours) return { proc, netns };
      } catch {
        // not yet
      }
      await sleep(10);
    }
    throw new Error('unshare did not create a network namespace');
  }

  function serveIn(netns: string, text: string): ChildProcess {
    const js = `require('http').createServer((q,s)=>s.end(${JSON.stringify(text)})).listen(80)`;
    const proc = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', js], { stdio: 'ignore' });
    procs.push(proc);
    return proc;
  }

  const kill = async (p: ChildProcess) => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await done;
  };

  let a: { proc: ChildProcess; netns: string };
  let b: { proc: ChildProcess; netns: string };
  let statusA: PodNetworkStatus;
  let statusB: PodNetworkStatus;
  const podA = webPod('neta', [{ containerPort: 80, hostPort: 18080, protocol: 'TCP' }]);
  const podB = webPod('netb', [{ containerPort: 80, hostPort: 18081, protocol: 'TCP' }]);

  // Other suites on this host may run minipod pods at the same time with their own IPAM store;
  // a subnet of our own (same renderer, same bridge) keeps addresses from colliding.
  const subnet = `10.89.${100 + Math.floor(Math.random() * 100)}.0/24`;

  beforeAll(async () => {
    fs.mkdirSync(paths.cniConfDir, { recursive: true });
    const list = renderDefaultConfList({ subnet, dataDir: path.join(paths.libDir, 'cni', 'networks') });
    fs.writeFileSync(path.join(paths.cniConfDir, 'minipod.conflist'), JSON.stringify(list, null, 2));
    a = await holder();
    b = await holder();
  });

  afterAll(async () => {
    for (const p of procs) await kill(p);
    await gcNetwork([], paths).catch(() => undefined);
    // Belt and braces if the code under test failed half-way.
    shQuiet('ip', ['link', 'del', 'minipod0']);
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForwardBefore);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('gives a pod eth0 with an address from the subnet and a default route', async () => {
    await checkHostPorts(podA, paths);
    statusA = await setupPodNetwork({ pod: podA, podId: `neta-${rand}`, netnsPath: a.netns, paths, warn });
    expect(statusA).toMatchObject({ mode: 'bridge', interface: 'eth0', network: 'minipod', prefixLength: 24 });
    expect(statusA.ip).toMatch(new RegExp(`^${subnet.replace(/0\/24$/, '').replace(/\./g, '\\.')}\\d+$`));
    expect(statusA.ports).toEqual([expect.objectContaining({ hostPort: 18080, containerPort: 80, protocol: 'TCP' })]);
    const conf = JSON.parse(fs.readFileSync(path.join(paths.cniConfDir, 'minipod.conflist'), 'utf8'));
    expect(conf.plugins[0].ipam.dataDir).toBe(path.join(paths.libDir, 'cni', 'networks'));
    const addr = sh('nsenter', [`--net=${a.netns}`, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    expect(addr).toContain(`inet ${statusA.ip}/24`);
    expect(sh('nsenter', [`--net=${a.netns}`, 'ip', 'route'])).toMatch(
      new RegExp(`default via ${statusA.gateway!.replace(/\./g, '\\.')} dev eth0`),
    );
    expect(sh('nsenter', [`--net=${a.netns}`, 'ip', '-o', 'link', 'show', 'lo'])).toMatch(/state UNKNOWN|LOWER_UP/);
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
  });

  it('runs a second pod side by side and refuses a hostPort already taken', async () => {
    statusB = await setupPodNetwork({ pod: podB, podId: `netb-${rand}`, netnsPath: b.netns, paths, warn });
    expect(statusB.ip).not.toBe(statusA.ip);
    const clash = webPod('netc', [{ containerPort: 8080, hostPort: 18080, protocol: 'TCP' }]);
    await expect(checkHostPorts(clash, paths)).rejects.toThrow(
      'spec.containers[0].ports[0].hostPort: host port 0.0.0.0:18080/TCP is already used by pod neta',
    );
    const c = await holder();
    await expect(setupPodNetwork({ pod: clash, podId: `netc-${rand}`, netnsPath: c.netns, paths, warn })).rejects.toThrow(
      /already used by pod neta/,
    );
    await kill(c.proc);
    // A port a host program listens on is refused too: portmap's DNAT would steal its traffic.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(18082, '127.0.0.1', r));
    try {
      await expect(checkHostPorts(webPod('netd', [{ containerPort: 80, hostPort: 18082, protocol: 'TCP' }]), paths)).rejects.toThrow(
        'already in use on the host',
      );
    } finally {
      srv.close();
    }
  });

  it('reaches each pod at its IP and through its hostPort on 127.0.0.1', async () => {
    serveIn(a.netns, 'hello from A');
    serveIn(b.netns, 'hello from B');
    expect(await getEventually(statusA.ip!, 80)).toBe('hello from A');
    expect(await getEventually(statusB.ip!, 80)).toBe('hello from B');
    expect(await getEventually('127.0.0.1', 18080)).toBe('hello from A');
    expect(await getEventually('127.0.0.1', 18081)).toBe('hello from B');
  });

  it('network none: loopback only', async () => {
    const n = await holder();
    const s = await setupPodNetwork({
      pod: webPod('netnone', [], { minipod: { network: 'none', swap: false } }),
      podId: `netnone-${rand}`,
      netnsPath: n.netns,
      paths,
      warn,
    });
    expect(s).toEqual({ mode: 'none', ports: [] });
    const links = sh('nsenter', [`--net=${n.netns}`, 'ip', '-o', 'link']);
    expect(links).toMatch(/lo: <LOOPBACK,UP/);
    expect(links).not.toContain('eth0');
    await kill(n.proc);
  });

  it('tears down with the namespace alive, and after it is gone', async () => {
    await teardownPodNetwork({ podId: `neta-${rand}`, netnsPath: a.netns, status: statusA, paths, warn });
    expect(sh('nsenter', [`--net=${a.netns}`, 'ip', '-o', 'link'])).not.toContain('eth0');
    await expect(get('127.0.0.1', 18080)).rejects.toThrow();
    // B still works: the shared chains and the bridge stay while a pod uses them.
    expect(await get('127.0.0.1', 18081)).toBe('hello from B');
    expect(sh('ip', ['-o', 'link'])).toContain('minipod0');
    for (const p of procs) await kill(p);
    await teardownPodNetwork({ podId: `netb-${rand}`, status: statusB, paths, warn });
    expect(warnings).toEqual([]);
  });

  it('gc frees what a crashed pod left', async () => {
    const d = await holder();
    const podD = webPod('netd', [{ containerPort: 80, hostPort: 18083, protocol: 'TCP' }]);
    await setupPodNetwork({ pod: podD, podId: `netd-${rand}`, netnsPath: d.netns, paths, warn });
    await kill(d.proc); // like kill -9 of minipod and the pod: no teardown
    expect(sh('iptables-save', [])).toContain(`id: \\"netd-${rand}\\"`);
    const report = await gcNetwork([], paths);
    expect(report.removed).toEqual([`netd-${rand}`]);
    expect(report.warnings).toEqual([]);
  });

  it('leaves nothing of minipod on the host', () => {
    const links = sh('ip', ['-o', 'link'])
      .split('\n')
      .map((l) => l.split(':')[1]?.trim())
      .filter(Boolean);
    expect(links.filter((l) => !linksBefore.includes(l))).toEqual([]);
    const save = sh('iptables-save', []) + shQuiet('ip6tables-save', []);
    expect(save).not.toMatch(/CNI|minipod/);
    expect(shQuiet('nft', ['list', 'tables'])).toBe(nftBefore);
    expect(sh('ip', ['netns', 'list'])).toBe(netnsBefore);
    expect(fs.existsSync(path.join(paths.libDir, 'cni'))).toBe(false);
    expect(fs.readdirSync(path.join(paths.runDir, 'network')).filter((f) => f !== 'lock')).toEqual([]);
  });
});
