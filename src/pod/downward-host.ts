/**
 * The host's side of the downward API: node name, host IPs, and the capacity an unset limit
 * resolves to (kubelet uses the node's allocatable; minipod's node is the whole host).
 */
import fs from 'node:fs';
import os from 'node:os';
import type { PodSpec } from '../manifest/types.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { DownwardValues } from '../plan/downward.js';

/** The interface of the default route (/proc/net/route), else none. */
function defaultRouteInterface(): string | undefined {
  try {
    for (const line of fs.readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [iface, destination] = line.trim().split(/\s+/);
      if (destination === '00000000' && iface) return iface;
    }
  } catch {
    // No IPv4 routing table: fall back to any address.
  }
  return undefined;
}

/** The node's addresses as kubelet reports them: those of the default route's interface. */
export function hostIPs(): string[] {
  const all = os.networkInterfaces();
  const preferred = defaultRouteInterface();
  const pick = (name: string): string[] =>
    (all[name] ?? []).filter((a) => !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80:'))).map((a) => a.address);
  if (preferred && pick(preferred).length > 0) return pick(preferred);
  for (const name of Object.keys(all)) {
    const ips = pick(name);
    if (ips.length > 0) return ips;
  }
  return [];
}

function diskBytes(dir: string): number {
  try {
    const s = fs.statfsSync(dir);
    return s.blocks * s.bsize;
  } catch {
    return 0;
  }
}

export interface HostDownward {
  nodeName: string;
  hostIPs: string[];
  allocatable: DownwardValues['allocatable'];
}

/** How long the daemon reuses what it read of the host (kubelet updates its node status every 10 s). */
const HOST_VALUES_TTL_MS = 5000;
let cached: { libDir: string; at: number; values: HostDownward } | undefined;

/**
 * Read once per few seconds, not per pod: os.cpus() parses /proc/cpuinfo and /proc/stat and
 * the interfaces are listed through netlink, ~5 ms of the daemon's CPU per pod on this host,
 * paid by every pod started back to back. A changed address shows within HOST_VALUES_TTL_MS.
 */
export function hostDownward(libDir: string, now = Date.now()): HostDownward {
  if (cached && cached.libDir === libDir && now - cached.at < HOST_VALUES_TTL_MS) return cached.values;
  const values = {
    nodeName: os.hostname(),
    hostIPs: hostIPs(),
    allocatable: { cpuMilli: os.cpus().length * 1000, memoryBytes: os.totalmem(), ephemeralStorageBytes: diskBytes(libDir) },
  };
  cached = { libDir, at: now, values };
  return values;
}

/** The values for one pod: a hostNetwork pod's IPs are the host's, as in Kubernetes. */
export function downwardValues(uid: string, host: HostDownward, pod: PodSpec, network: PodNetworkStatus | undefined): DownwardValues {
  const podIPs = pod.hostNetwork ? host.hostIPs : network?.ip ? [network.ip] : [];
  return { uid, podIPs, hostIPs: host.hostIPs, nodeName: host.nodeName, allocatable: host.allocatable };
}
