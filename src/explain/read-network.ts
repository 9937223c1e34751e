/**
 * Reading the pod's network from the kernel: the interfaces and addresses inside the pod's
 * network namespace (`ip -j` run in it by nsenter: explain's own thread never changes
 * namespace), the veth's peer on the host, the DNAT rules that publish its ports
 * (iptables-save) and whether something listens on each port (/proc/PID/net/tcp, which shows
 * the namespace of PID). The parsers are pure and exported for the unit tests.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { NetworkInterface, PortFacts } from './snapshot.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  address?: string;
  link_index?: number;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** `ip -j -d addr show` output -> interfaces with their IPv4/IPv6 addresses (loopback left out). */
export function parseIpAddr(json: string): (NetworkInterface & { linkIndex?: number; kind?: string; master?: string })[] {
  const links = JSON.parse(json) as IpLink[];
  return links
    .filter((l) => l.ifname !== 'lo')
    .map((l) => ({
      name: l.ifname,
      ifindex: l.ifindex,
      ...(l.address ? { mac: l.address } : {}),
      addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet' || a.family === 'inet6').map((a) => `${a.local}/${a.prefixlen}`),
      ...(l.link_index !== undefined ? { linkIndex: l.link_index } : {}),
      ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}),
      ...(l.master ? { master: l.master } : {}),
    }));
}

/** Whether iptables-save's nat table DNATs `hostPort` to `ip:containerPort`. */
export function hasDnat(iptablesSave: string, hostPort: number, ip: string, containerPort: number, protocol: string): boolean {
  return iptablesSave
    .split('\n')
    .some(
      (l) =>
        l.includes(`--dport ${hostPort} `) &&
        l.includes(`-p ${protocol.toLowerCase()}`) &&
        new RegExp(`--to-destination ${ip.replace(/\./g, '\\.')}:${containerPort}(\\s|$)`).test(l),
    );
}

/** Ports in LISTEN state (st 0A) in /proc/PID/net/tcp or tcp6 text. */
export function listeningTcpPorts(text: string): Set<number> {
  const out = new Set<number>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== '0A') continue;
    const port = parseInt(f[1]?.split(':').at(-1) ?? '', 16);
    if (Number.isFinite(port)) out.add(port);
  }
  return out;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface InterfacesResult {
  interfaces: NetworkInterface[];
  error?: string;
}

/** Interfaces in the network namespace of `pid`, each veth with its host-side peer. */
export function readPodInterfaces(pid: number): InterfacesResult {
  let inside: ReturnType<typeof parseIpAddr>;
  try {
    inside = parseIpAddr(run('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-j', '-d', 'addr', 'show']));
  } catch (err) {
    return { interfaces: [], error: `reading the pod's interfaces: ${(err as Error).message.split('\n')[0]}` };
  }
  let host: ReturnType<typeof parseIpAddr> = [];
  try {
    host = parseIpAddr(run('ip', ['-j', '-d', 'addr', 'show']));
  } catch {
    // without the host's view the peers stay unknown
  }
  const interfaces = inside.map((i) => {
    const peer =
      i.kind === 'veth' && i.linkIndex !== undefined ? host.find((h) => h.ifindex === i.linkIndex && h.kind === 'veth') : undefined;
    return {
      name: i.name,
      ifindex: i.ifindex,
      ...(i.mac ? { mac: i.mac } : {}),
      addresses: i.addresses,
      ...(peer
        ? { peer: { name: peer.name, ifindex: peer.ifindex, ...(peer.master ? { master: peer.master } : {}), addresses: peer.addresses } }
        : {}),
    };
  });
  return { interfaces };
}

/** The nat table, or '' when iptables cannot be read (then every port reads as not published). */
export function readNatTable(): string {
  try {
    return run('iptables-save', ['-t', 'nat']);
  } catch {
    return '';
  }
}

/** TCP ports something listens on in the network namespace of `pid`. */
export function readListeningPorts(pid: number): Set<number> {
  const out = new Set<number>();
  for (const f of ['tcp', 'tcp6']) {
    try {
      for (const p of listeningTcpPorts(fs.readFileSync(`/proc/${pid}/net/${f}`, 'utf8'))) out.add(p);
    } catch {
      // no IPv6, or the process is gone
    }
  }
  return out;
}

export type { PortFacts };
