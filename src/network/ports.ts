/**
 * hostPort reservations. portmap publishes a port with DNAT rules and binds nothing, so neither
 * the kernel nor a bind test can tell us that another minipod pod owns a port: a registry under
 * `<runDir>/network/ports.json` (guarded by the network lock) does. A bind test catches host
 * programs, whose traffic portmap's DNAT would silently steal.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { UserError } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import { type MinipodPaths, networkFiles } from '../paths.js';
import { writeFileAtomic } from '../state/lock.js';
import type { NetworkMode, PublishedPort } from './types.js';

export interface PortReservation extends PublishedPort {
  podId: string;
  /** Pod name, for the message another pod gets. */
  podName: string;
}

export function podNetworkMode(pod: PodSpec): NetworkMode {
  if (pod.hostNetwork) return 'host';
  return pod.minipod.network === 'none' ? 'none' : 'bridge';
}

/**
 * The ports a pod publishes on the host. With hostNetwork the container binds the host's port
 * itself, so every containerPort counts (Kubernetes makes hostPort equal to it there).
 */
export function publishedPorts(pod: PodSpec): PublishedPort[] {
  const host = pod.hostNetwork;
  const out: PublishedPort[] = [];
  pod.containers.forEach((c, i) => {
    c.ports.forEach((p, j) => {
      const hostPort = p.hostPort ?? (host ? p.containerPort : undefined);
      if (hostPort === undefined || hostPort === 0) return;
      out.push({
        containerName: c.name,
        containerPort: p.containerPort,
        hostPort,
        hostIP: p.hostIP && p.hostIP !== '0.0.0.0' ? p.hostIP : '',
        protocol: p.protocol,
        field: `spec.containers[${i}].ports[${j}].${p.hostPort !== undefined ? 'hostPort' : 'containerPort'}`,
      });
    });
  });
  return out;
}

/** Two bindings collide on the same port and protocol unless both name different addresses. */
export function portsCollide(a: PublishedPort, b: PublishedPort): boolean {
  return a.hostPort === b.hostPort && a.protocol === b.protocol && (a.hostIP === '' || b.hostIP === '' || a.hostIP === b.hostIP);
}

function describe(p: PublishedPort): string {
  return `${p.hostIP || '0.0.0.0'}:${p.hostPort}/${p.protocol}`;
}

/**
 * Pure part of the check: ports within the pod and against other pods' reservations. Returns
 * the first problem as a UserError, or undefined.
 */
export function findPortConflict(
  podId: string,
  mode: NetworkMode,
  wanted: PublishedPort[],
  reserved: PortReservation[],
): UserError | undefined {
  if (mode === 'none' && wanted.length > 0) {
    return new UserError(`${wanted[0]!.field}: ${wanted[0]!.hostPort}: cannot publish a port with \`minipod.io/network: none\``, {
      code: 'network.port',
    });
  }
  for (let k = 0; k < wanted.length; k++) {
    const p = wanted[k]!;
    if (mode === 'bridge' && p.hostIP.includes(':')) {
      return new UserError(`${p.field}: hostIP ${p.hostIP}: IPv6 host addresses are not supported by the pod network`, {
        code: 'network.port',
      });
    }
    const dup = wanted.slice(0, k).find((q) => portsCollide(p, q));
    if (dup) {
      return new UserError(`${p.field}: ${describe(p)} is already published by ${dup.field}`, { code: 'network.port-conflict' });
    }
    const other = reserved.find((r) => r.podId !== podId && portsCollide(p, r));
    if (other) {
      return new UserError(`${p.field}: host port ${describe(p)} is already used by pod ${other.podName}`, {
        code: 'network.port-conflict',
      });
    }
  }
  return undefined;
}

/** Resolves to an errno code (`EADDRINUSE`, `EADDRNOTAVAIL`, ...) or undefined if the port is free. */
export function tryBind(p: PublishedPort): Promise<string | undefined> {
  const host = p.hostIP || '0.0.0.0';
  return new Promise((resolve) => {
    if (p.protocol === 'UDP') {
      const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', (err: NodeJS.ErrnoException) => {
        s.close();
        resolve(err.code ?? err.message);
      });
      s.bind(p.hostPort, host, () => s.close(() => resolve(undefined)));
      return;
    }
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen({ port: p.hostPort, host, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

export async function checkHostBindings(wanted: PublishedPort[]): Promise<void> {
  for (const p of wanted) {
    const err = await tryBind(p);
    if (!err) continue;
    if (err === 'EADDRINUSE') {
      throw new UserError(`${p.field}: host port ${describe(p)} is already in use on the host`, { code: 'network.port-conflict' });
    }
    if (err === 'EADDRNOTAVAIL') {
      throw new UserError(`${p.field}: hostIP ${p.hostIP} is not an address of this host`, { code: 'network.port' });
    }
    if (err === 'EACCES') continue; // unprivileged check of a low port: the real start runs as root
    throw new UserError(`${p.field}: cannot check host port ${describe(p)}: ${err}`, { code: 'network.port' });
  }
}

export function readReservations(paths: MinipodPaths): PortReservation[] {
  try {
    const obj = JSON.parse(fs.readFileSync(networkFiles(paths).ports, 'utf8')) as { reservations?: PortReservation[] };
    return Array.isArray(obj.reservations) ? obj.reservations : [];
  } catch {
    return [];
  }
}

export function writeReservations(paths: MinipodPaths, list: PortReservation[]): void {
  if (list.length === 0) {
    fs.rmSync(networkFiles(paths).ports, { force: true });
    return;
  }
  writeFileAtomic(networkFiles(paths).ports, `${JSON.stringify({ reservations: list }, null, 2)}\n`);
}

/** Replaces a pod's reservations (caller holds the network lock). */
export function setPodReservations(paths: MinipodPaths, podId: string, podName: string, ports: PublishedPort[]): void {
  const rest = readReservations(paths).filter((r) => r.podId !== podId);
  writeReservations(paths, [...rest, ...ports.map((p) => ({ ...p, podId, podName }))]);
}
