/**
 * Host-wide leftovers of the CNI plugins, removed when no minipod pod remains: the bridge, the
 * shared iptables chains, the IPAM store, and nf_tables tables that only exist because the
 * plugins' iptables-nft calls created them. What existed before the first pod is remembered in
 * `<runDir>/network/host.json` so we never delete a table the host already had.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type MinipodPaths, networkFiles } from '../paths.js';
import { run } from './exec.js';
import { writeFileAtomic } from '../state/lock.js';
import type { CniConfList } from './cni/types.js';

export interface HostNetworkState {
  /** `nft list tables` lines before minipod's first pod, e.g. `table ip nat`. */
  nftTablesBefore?: string[];
  /** net.ipv4.ip_forward before the bridge plugin turned it on; restored when the last pod goes. */
  ipForwardBefore?: string;
}

export function readHostState(paths: MinipodPaths): HostNetworkState | undefined {
  try {
    return JSON.parse(fs.readFileSync(networkFiles(paths).host, 'utf8')) as HostNetworkState;
  } catch {
    return undefined;
  }
}

async function listNftTables(): Promise<string[] | undefined> {
  try {
    const r = await run('nft', ['list', 'tables'], { timeoutMs: 10_000 });
    if (r.code !== 0) return undefined;
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

export function readIpForward(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Called before the first bridge-mode ADD while no minipod pod has network state; true when
 * it recorded now (the host network is being brought up), false when already recorded.
 */
export async function recordHostStateOnce(paths: MinipodPaths): Promise<boolean> {
  if (readHostState(paths)) return false;
  const state: HostNetworkState = { nftTablesBefore: await listNftTables(), ipForwardBefore: readIpForward() };
  writeFileAtomic(networkFiles(paths).host, `${JSON.stringify(state, null, 2)}\n`);
  return true;
}

export function clearHostState(paths: MinipodPaths): void {
  fs.rmSync(networkFiles(paths).host, { force: true });
}

/** Tables the plugins create through iptables-nft; only these are candidates for removal. */
const IPTABLES_NFT_TABLES = ['table ip nat', 'table ip filter', 'table ip6 nat', 'table ip6 filter'];

/** Deletes tables that did not exist before minipod and are now empty of rules and own chains. */
export async function removeEmptyNftTables(before: string[] | undefined): Promise<string[]> {
  if (!before) return [];
  const now = await listNftTables();
  if (!now) return [];
  const removed: string[] = [];
  for (const t of IPTABLES_NFT_TABLES) {
    if (!now.includes(t) || before.includes(t)) continue;
    const [, family, name] = t.split(' ');
    const r = await run('nft', ['-j', 'list', 'table', family!, name!], { timeoutMs: 10_000 });
    if (r.code !== 0) continue;
    let items: Record<string, Record<string, unknown>>[];
    try {
      items = (JSON.parse(r.stdout) as { nftables: Record<string, Record<string, unknown>>[] }).nftables;
    } catch {
      continue;
    }
    const hasRules = items.some((i) => i.rule || i.set || i.map);
    const userChains = items.some((i) => i.chain && i.chain.hook === undefined);
    const dropPolicy = items.some((i) => i.chain && i.chain.policy !== undefined && i.chain.policy !== 'accept');
    if (hasRules || userChains || dropPolicy) continue;
    const d = await run('nft', ['delete', 'table', family!, name!], { timeoutMs: 10_000 });
    if (d.code === 0) removed.push(t);
  }
  return removed;
}

/** Bridge names the bridge plugin uses in a conflist (its default is `cni0`). */
export function bridgesOf(list: CniConfList): string[] {
  return list.plugins.filter((p) => p.type === 'bridge').map((p) => (typeof p.bridge === 'string' ? p.bridge : 'cni0'));
}

/** Interfaces attached to a bridge (a live pod's veth); none when the bridge does not exist. */
export function bridgePorts(name: string): string[] {
  try {
    return fs.readdirSync(`/sys/class/net/${name}/brif`);
  } catch {
    return [];
  }
}

/** Deletes a bridge if it exists and nothing is attached to it any more. */
export async function removeBridgeIfUnused(name: string): Promise<boolean> {
  if (!fs.existsSync(`/sys/class/net/${name}/bridge`)) return false;
  if (bridgePorts(name).length > 0) return false;
  const r = await run('ip', ['link', 'delete', name, 'type', 'bridge'], { timeoutMs: 10_000 });
  return r.code === 0;
}

export interface HostLocalStore {
  /** `<dataDir>/<network name>`. */
  dir: string;
  /** True when the dataDir is under minipod's lib dir, so the whole store is ours. */
  ours: boolean;
}

/** Where host-local keeps a conflist's reservations (its default dataDir is /var/lib/cni/networks). */
export function hostLocalStores(list: CniConfList, paths: MinipodPaths): HostLocalStore[] {
  const out: HostLocalStore[] = [];
  for (const p of list.plugins) {
    const ipam = p.ipam as { type?: string; dataDir?: string } | undefined;
    if (!ipam || ipam.type !== 'host-local') continue;
    const dataDir = ipam.dataDir ?? '/var/lib/cni/networks';
    const ours = path.resolve(dataDir).startsWith(path.resolve(paths.libDir) + path.sep);
    out.push({ dir: path.join(dataDir, list.name), ours });
  }
  return out;
}

/** Host-local's lease files: `<ip>` holding `<containerID>\r\n<ifname>`; the rest is bookkeeping. */
function readLeases(store: HostLocalStore): { file: string; address: string; containerId: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(store.dir);
  } catch {
    return [];
  }
  const out: { file: string; address: string; containerId: string }[] = [];
  for (const n of names) {
    if (n === 'lock' || n.startsWith('last_reserved_ip')) continue;
    const file = path.join(store.dir, n);
    try {
      out.push({ file, address: n, containerId: fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim() });
    } catch {
      // released meanwhile
    }
  }
  return out;
}

/** The addresses a container holds in a store: what its firewall rules name when no result was saved. */
export function leasedAddresses(store: HostLocalStore, containerId: string): string[] {
  return readLeases(store)
    .filter((l) => l.containerId === containerId)
    .map((l) => l.address);
}

/**
 * Frees host-local reservations whose container ID is not kept; returns the freed addresses
 * (their firewall rules must go too).
 */
export function releaseIpamEntries(store: HostLocalStore, keep: (containerId: string) => boolean, onlyIds?: Set<string>): string[] {
  const freed: string[] = [];
  for (const lease of readLeases(store)) {
    if (keep(lease.containerId)) continue;
    if (!store.ours && !onlyIds?.has(lease.containerId)) continue; // a shared store: only touch our own IDs
    fs.rmSync(lease.file, { force: true });
    freed.push(lease.address);
  }
  return freed;
}

/** Removes a store of ours that holds no reservation any more. */
export function removeIpamStoreIfEmpty(store: HostLocalStore, libDir: string): void {
  if (!store.ours) return;
  let names: string[];
  try {
    names = fs.readdirSync(store.dir);
  } catch {
    return;
  }
  if (names.every((n) => n === 'lock' || n.startsWith('last_reserved_ip'))) {
    fs.rmSync(store.dir, { recursive: true, force: true });
    // Drop empty parents up to (not including) the lib dir, so nothing of ours remains.
    let dir = path.dirname(store.dir);
    const stop = path.resolve(libDir);
    while (dir.startsWith(stop + path.sep)) {
      try {
        fs.rmdirSync(dir);
      } catch {
        break;
      }
      dir = path.dirname(dir);
    }
  }
}
