/**
 * The pod network API the pod lifecycle calls:
 * - checkHostPorts before anything is created (fail fast, nothing to undo),
 * - setupPodNetwork once the pod's network namespace exists, before containers start,
 * - teardownPodNetwork when the pod stops (also after its namespace is gone),
 * - gcNetwork with the IDs of pods that still exist, after a crash or from `minipod gc`.
 * Registry updates happen under `<runDir>/network/lock`; CNI plugins run outside it (they
 * have their own locks) so one slow ADD does not block every other pod.
 */
import fs from 'node:fs';
import { inContextAsync, UserError } from '../errors.js';
import type { PodSpec } from '../manifest/types.js';
import { cniConflistPath, type MinipodPaths, networkFiles } from '../paths.js';
import { loadConfList, requirePlugins } from './cni/conflist.js';
import { addNetworkList, checkNetworkList, delNetworkList } from './cni/runner.js';
import { summarizeResult } from './cni/result.js';
import type { CniConfList, CniRuntime, CniRuntimeConfig } from './cni/types.js';
import { ensureDefaultConfList } from './default-config.js';
import {
  bridgePorts,
  bridgesOf,
  clearHostState,
  hostLocalStores,
  leasedAddresses,
  readHostState,
  readIpForward,
  recordHostStateOnce,
  releaseIpamEntries,
  removeBridgeIfUnused,
  removeEmptyNftTables,
  removeIpamStoreIfEmpty,
} from './host.js';
import {
  applyRestore,
  firewallAddressesIn,
  planAddressRemoval,
  planFullRemoval,
  planMasquerade,
  planPodRemoval,
  readTables,
  type IpFamily,
  type IptTable,
} from './iptables.js';
import { withFileLock } from '../state/lock.js';
import { bringLoopbackUp } from './loopback.js';
import {
  checkHostBindings,
  findPortConflict,
  podNetworkMode,
  publishedPorts,
  readReservations,
  setPodReservations,
  writeReservations,
} from './ports.js';
import {
  cniContainerId,
  listPodStates,
  netnsIdentity,
  pidAlive,
  readPodNetworkState,
  removeEmptyStateDir,
  removePodNetworkState,
  writePodNetworkState,
  type PodNetworkState,
} from './state.js';
import type { PodNetworkStatus, PublishedPort, WarnFn } from './types.js';

const IFNAME = 'eth0';
const FAMILIES: IpFamily[] = ['ipv4', 'ipv6'];

function defaultWarn(message: string): void {
  process.stderr.write(`minipod: warning: ${message}\n`);
}

/**
 * Checks the pod's hostPorts against other minipod pods and the host, without reserving.
 * `podId` lets a pod that already holds its ports (a restart) pass its own reservations.
 */
export async function checkHostPorts(pod: PodSpec, paths: MinipodPaths, podId = ''): Promise<void> {
  const mode = podNetworkMode(pod);
  const wanted = publishedPorts(pod);
  const conflict = findPortConflict(podId, mode, wanted, readReservations(paths));
  if (conflict) throw conflict;
  const mine = readReservations(paths).filter((r) => r.podId === podId);
  await checkHostBindings(wanted.filter((p) => !mine.some((m) => m.hostPort === p.hostPort && m.protocol === p.protocol)));
}

/** Reserves the pod's ports atomically with the check; the caller holds the lock. */
async function reservePorts(pod: PodSpec, podId: string, paths: MinipodPaths): Promise<PublishedPort[]> {
  const mode = podNetworkMode(pod);
  const wanted = publishedPorts(pod);
  const reserved = readReservations(paths);
  const conflict = findPortConflict(podId, mode, wanted, reserved);
  if (conflict) throw conflict;
  const mine = reserved.filter((r) => r.podId === podId);
  await checkHostBindings(wanted.filter((p) => !mine.some((m) => m.hostPort === p.hostPort && m.protocol === p.protocol)));
  if (wanted.length > 0 || mine.length > 0) setPodReservations(paths, podId, pod.name, wanted);
  return wanted;
}

function releasePorts(paths: MinipodPaths, podId: string): void {
  const all = readReservations(paths);
  const rest = all.filter((r) => r.podId !== podId);
  if (rest.length !== all.length) writeReservations(paths, rest);
}

export interface SetupPodNetworkOptions {
  pod: PodSpec;
  /** Unique pod ID; also the CNI container ID (encoded if it has other characters). */
  podId: string;
  /** `/proc/<initpid>/ns/net`; unused with hostNetwork. */
  netnsPath?: string;
  paths: MinipodPaths;
  /** `lo` is already up in the namespace (the pod's init did it): skip the loopback plugin. */
  loopbackReady?: boolean;
  /** Per plugin invocation; default 30 s. */
  timeoutMs?: number;
  warn?: WarnFn;
}

export async function setupPodNetwork(o: SetupPodNetworkOptions): Promise<PodNetworkStatus> {
  const { pod, podId, paths } = o;
  const warn = o.warn ?? defaultWarn;
  const mode = podNetworkMode(pod);
  const lock = networkFiles(paths).lock;

  if (mode === 'host') {
    const ports = await withFileLock(lock, () => reservePorts(pod, podId, paths));
    return { mode, ports };
  }
  if (!o.netnsPath) throw new Error('setupPodNetwork: netnsPath is required unless hostNetwork is set');
  const netnsPath = o.netnsPath;
  const containerId = cniContainerId(podId);

  if (mode === 'none') {
    const conflict = findPortConflict(podId, mode, publishedPorts(pod), []);
    if (conflict) throw conflict;
    if (!o.loopbackReady) await inContextAsync('bring up loopback', () => bringLoopbackUp(netnsPath, containerId, paths));
    return { mode, ports: [] };
  }

  const file = ensureDefaultConfList(paths);
  const confList = loadConfList(file);
  requirePlugins(confList, paths.cniPluginDirs, file);

  // A leftover from an earlier run of the same pod ID would make host-local refuse the ID.
  if (readPodNetworkState(paths, podId)) await teardownPodNetwork({ podId, paths, warn });

  const state: PodNetworkState = {
    podId,
    podName: pod.name,
    phase: 'adding',
    ownerPid: process.pid,
    containerId,
    ifName: IFNAME,
    netnsPath,
    netnsId: netnsIdentity(netnsPath),
    confList,
    runtimeConfig: {},
  };
  const ports = await withFileLock(lock, async () => {
    const reserved = await reservePorts(pod, podId, paths);
    if (listPodStates(paths).length === 0 && (await recordHostStateOnce(paths))) {
      const subnets = masqueradedSubnets(confList);
      if (subnets.length > 0) await applyRestore('ipv4', planMasquerade(subnets, await readTables('ipv4')));
    }
    state.runtimeConfig = runtimeConfigFor(reserved);
    // DEL runs the same list from the saved state, so ADD and DEL always match.
    state.confList = pluginsNeeded(confList, state.runtimeConfig);
    // Written before ADD so that a crash half-way leaves something gc can undo.
    writePodNetworkState(paths, state);
    return reserved;
  });

  try {
    if (!o.loopbackReady) await bringLoopbackUp(netnsPath, containerId, paths);
    const result = await addNetworkList(state.confList, cniRuntime(state, paths, netnsPath, o.timeoutMs));
    state.result = result;
    state.phase = 'ready';
    writePodNetworkState(paths, state);
    const s = summarizeResult(result, IFNAME);
    if (!s.ip) warn(`CNI network ${confList.name} gave pod ${pod.name} no IPv4 address`);
    return { mode, ip: s.ip, prefixLength: s.prefixLength, gateway: s.gateway, interface: s.interface, network: confList.name, ports };
  } catch (err) {
    await teardownPodNetwork({ podId, paths, warn: () => {} }).catch(() => {});
    throw err; // the supervisor says which pod (`set up the network of pod P: ...`)
  }
}

/**
 * The list without plugins that only act on a capability this pod does not use (portmap
 * without hostPorts): each one skipped is a plugin exec and its iptables calls on ADD and DEL.
 */
export function pluginsNeeded(list: CniConfList, runtimeConfig: CniRuntimeConfig): CniConfList {
  const used = new Set(Object.keys(runtimeConfig));
  const plugins = list.plugins.filter((p) => {
    const caps = Object.entries((p.capabilities ?? {}) as Record<string, boolean>)
      .filter(([, on]) => on)
      .map(([c]) => c);
    return p.type !== 'portmap' || caps.some((c) => used.has(c));
  });
  return plugins.length === list.plugins.length ? list : { ...list, plugins };
}

function runtimeConfigFor(ports: PublishedPort[]): CniRuntimeConfig {
  if (ports.length === 0) return {};
  return {
    portMappings: ports.map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const),
      ...(p.hostIP ? { hostIP: p.hostIP } : {}),
    })),
  };
}

function cniRuntime(state: PodNetworkState, paths: MinipodPaths, netns: string, timeoutMs?: number): CniRuntime {
  return {
    containerId: state.containerId,
    netns,
    ifName: state.ifName,
    pluginDirs: paths.cniPluginDirs,
    runtimeConfig: state.runtimeConfig,
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${state.podName}`,
    timeoutMs,
  };
}

/**
 * The namespace DEL may enter: only the one ADD used. `/proc/<pid>/ns/net` of a reused pid is
 * someone else's namespace; then DEL runs without one (the veth died with the old namespace).
 */
function safeNetns(state: PodNetworkState, netnsPath?: string): string {
  const candidate = netnsPath ?? state.netnsPath;
  const id = netnsIdentity(candidate);
  return id !== undefined && id === state.netnsId ? candidate : '';
}

/** The pod's addresses: from the saved ADD result, or its IPAM lease when ADD was cut short. */
function podAddresses(state: PodNetworkState, paths: MinipodPaths): string[] {
  const fromResult = (state.result?.ips ?? []).map((c) => c.address.split('/')[0]!);
  const leased = hostLocalStores(state.confList, paths).flatMap((s) => leasedAddresses(s, state.containerId));
  return [...new Set([...fromResult, ...leased])];
}

/** Applies removal plans computed from one read of each family's tables; problems as strings. */
async function removeRules(what: string, plan: (tables: IptTable[]) => string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const fam of FAMILIES) {
    try {
      await applyRestore(fam, plan(await readTables(fam)));
    } catch (err) {
      problems.push(`remove ${what}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** CNI DEL plus what DEL leaves when the namespace is gone; returns problems as strings. */
async function undoPod(state: PodNetworkState, paths: MinipodPaths, netnsPath?: string): Promise<string[]> {
  const problems: string[] = [];
  // Read before DEL: host-local's DEL frees the lease, and with it the only record of the
  // address of a pod whose ADD was cut short.
  const addresses = podAddresses(state, paths);
  const rt = cniRuntime(state, paths, safeNetns(state, netnsPath));
  const errors = await delNetworkList(state.confList, rt, state.result);
  problems.push(...errors.map((e) => e.message));
  // A clean DEL leaves nothing unless the bridge plugin masqueraded per pod (its chain stays
  // when DEL runs without the namespace), or the firewall plugin had no prevResult to find
  // its rules by (ADD cut short): then one iptables-save pass, otherwise none.
  const perPodMasquerade = state.confList.plugins.some((p) => p.type === 'bridge' && p.ipMasq === true);
  const firewallBlind = state.result === undefined && state.confList.plugins.some((p) => p.type === 'firewall');
  if (errors.length === 0 && !perPodMasquerade && !firewallBlind) return finishUndo(state, paths, problems);
  problems.push(
    ...(await removeRules(`iptables rules of pod ${state.podName}`, (tables) => [
      ...planPodRemoval(tables, state.confList.name, state.containerId),
      ...planAddressRemoval(tables, addresses),
    ])),
  );
  return finishUndo(state, paths, problems);
}

function finishUndo(state: PodNetworkState, paths: MinipodPaths, problems: string[]): string[] {
  for (const store of hostLocalStores(state.confList, paths)) {
    releaseIpamEntries(store, (id) => id !== state.containerId, new Set([state.containerId]));
  }
  return problems;
}

/** Subnets of the bridge plugins' host-local ranges. */
function bridgeSubnets(list: CniConfList, only: (bridge: CniConfList['plugins'][number]) => boolean = () => true): string[] {
  return list.plugins
    .filter((p) => p.type === 'bridge' && only(p))
    .flatMap((p) => ((p.ipam as { ranges?: { subnet?: string }[][] } | undefined)?.ranges ?? []).flat())
    .map((r) => r.subnet)
    .filter((s): s is string => typeof s === 'string');
}

/** Subnets of bridge plugins that leave masquerading to us (ipMasq off, gateway on). */
function masqueradedSubnets(list: CniConfList): string[] {
  return bridgeSubnets(list, (p) => p.ipMasq !== true && p.isGateway === true);
}

export interface TeardownPodNetworkOptions {
  podId: string;
  /** Current namespace path if the caller knows it; the saved one is used otherwise. */
  netnsPath?: string;
  /** What setupPodNetwork returned; optional, the saved state is authoritative. */
  status?: PodNetworkStatus;
  paths: MinipodPaths;
  warn?: WarnFn;
  /**
   * Leave the bridge, chains and IPAM store up when this was the last pod: the daemon keeps
   * the host's network while it runs and takes it down when it exits (cleanHostNetworkIfIdle),
   * so pods that come and go do not rebuild it each time.
   */
  keepHost?: boolean;
}

/**
 * Undoes setupPodNetwork: CNI DEL (works without the namespace), frees the address and the
 * ports. When it was the last pod on the bridge, the host-wide leftovers go too. Problems are
 * reported through `warn`, never thrown: a stopping pod must not be stuck on its network.
 */
export async function teardownPodNetwork(o: TeardownPodNetworkOptions): Promise<void> {
  const warn = o.warn ?? defaultWarn;
  const { paths, podId } = o;
  // Nothing of this pod in the registry (network none, hostNetwork without ports): no lock,
  // no work. Only the pod's own start writes its entries, and that start is over.
  if (!readPodNetworkState(paths, podId) && !readReservations(paths).some((r) => r.podId === podId)) return;
  const lock = networkFiles(paths).lock;
  // The DEL itself runs outside the lock, as ADD does: the next pod's start (often the same
  // pod's next run, while the daemon finishes this DEL) need not wait for it. Marked
  // `deleting` first, so gc leaves it to us while we run and undoes it if we die.
  const state = await withFileLock(lock, async () => {
    const s = readPodNetworkState(paths, podId);
    if (!s || (s.phase === 'deleting' && s.ownerPid !== process.pid && pidAlive(s.ownerPid))) return undefined;
    const deleting: PodNetworkState = { ...s, phase: 'deleting', ownerPid: process.pid };
    writePodNetworkState(paths, deleting);
    return deleting;
  });
  if (state) for (const p of await undoPod(state, paths, o.netnsPath)) warn(p);
  await withFileLock(lock, async () => {
    if (state) removePodNetworkState(paths, podId);
    releasePorts(paths, podId);
    if (state && !o.keepHost) for (const p of await cleanHostIfIdle(paths, [state.confList])) warn(p);
  });
}

/** With no pod left on it: the bridge, chains, IPAM store and nft tables go (daemon exit). */
export async function cleanHostNetworkIfIdle(paths: MinipodPaths): Promise<string[]> {
  return withFileLock(networkFiles(paths).lock, () => cleanHostIfIdle(paths, []));
}

/** Re-runs CNI CHECK for a running pod; throws a CniError naming the plugin if it fails. */
export async function checkPodNetwork(o: { podId: string; paths: MinipodPaths; timeoutMs?: number }): Promise<void> {
  const state = readPodNetworkState(o.paths, o.podId);
  if (!state?.result) throw new UserError(`pod ${o.podId} has no CNI network`, { code: 'network.none' });
  const netns = safeNetns(state);
  if (!netns) throw new UserError(`network namespace of pod ${state.podName} is gone`, { code: 'network.netns-gone' });
  await checkNetworkList(state.confList, cniRuntime(state, o.paths, netns, o.timeoutMs), state.result);
}

function loadDefaultListQuietly(paths: MinipodPaths): CniConfList | undefined {
  try {
    return loadConfList(cniConflistPath(paths));
  } catch {
    return undefined;
  }
}

/**
 * With no bridge-mode pod left: remove the bridge, every CNI chain, the IPAM store and the
 * nf_tables tables the plugins created. Caller holds the lock.
 */
async function cleanHostIfIdle(paths: MinipodPaths, extraLists: CniConfList[]): Promise<string[]> {
  if (listPodStates(paths).length > 0) return [];
  const problems: string[] = [];
  const lists = [...extraLists];
  const def = loadDefaultListQuietly(paths);
  if (def) lists.push(def);
  // With nothing attached to our bridges no pod on them lives: accept rules of their subnets
  // are a dead pod's whose lease and state are gone too (they kept every CNI chain in place).
  const bridges = new Set(lists.flatMap(bridgesOf));
  if ([...bridges].every((b) => bridgePorts(b).length === 0)) {
    const subnets = lists.flatMap((l) => bridgeSubnets(l));
    problems.push(...(await removeRules('accept rules of dead pods', (t) => planAddressRemoval(t, firewallAddressesIn(t, subnets)))));
  }
  problems.push(...(await removeRules('CNI iptables chains', planFullRemoval)));
  for (const bridge of bridges) {
    try {
      await removeBridgeIfUnused(bridge);
    } catch (err) {
      problems.push(`remove bridge ${bridge}: ${(err as Error).message}`);
    }
  }
  for (const list of lists) {
    for (const store of hostLocalStores(list, paths)) {
      releaseIpamEntries(store, () => false);
      removeIpamStoreIfEmpty(store, paths.libDir);
    }
  }
  removeEmptyStateDir(paths);
  const host = readHostState(paths);
  if (host) {
    await removeEmptyNftTables(host.nftTablesBefore);
    // The bridge plugin turned forwarding on for the pods; with none left, the host gets back
    // what it had (podman leaves it on; we leave the host as we found it).
    if (host.ipForwardBefore === '0' && readIpForward() === '1') {
      try {
        fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
      } catch (err) {
        problems.push(`restore net.ipv4.ip_forward: ${(err as Error).message}`);
      }
    }
    clearHostState(paths);
  }
  return problems;
}

export interface GcNetworkReport {
  /** Pod IDs whose network was torn down. */
  removed: string[];
  warnings: string[];
}

/**
 * Frees what pods that no longer exist left behind: their CNI attachment (DEL with the saved
 * config), masquerade/DNAT chains, IPAM reservations and port reservations; with no pod left,
 * the host-wide leftovers too. `livePodIds`: every pod minipod still knows, running or not.
 * A pod whose setup or teardown is still in progress in a live process is left alone.
 */
export async function gcNetwork(livePodIds: Iterable<string>, paths: MinipodPaths): Promise<GcNetworkReport> {
  const live = new Set(livePodIds);
  const report: GcNetworkReport = { removed: [], warnings: [] };
  await withFileLock(networkFiles(paths).lock, async () => {
    const lists: CniConfList[] = [];
    const keep = new Set<string>();
    for (const state of listPodStates(paths)) {
      const settingUp = state.phase !== 'ready' && state.ownerPid !== process.pid && pidAlive(state.ownerPid);
      if (live.has(state.podId) || settingUp) {
        keep.add(state.podId);
        continue;
      }
      report.warnings.push(...(await undoPod(state, paths)));
      removePodNetworkState(paths, state.podId);
      lists.push(state.confList);
      report.removed.push(state.podId);
    }
    const liveIds = new Set([...live, ...keep]);
    const reservations = readReservations(paths);
    const kept = reservations.filter((r) => liveIds.has(r.podId));
    if (kept.length !== reservations.length) writeReservations(paths, kept);

    // IPAM entries of IDs we no longer know (a lost state file) in a store that is ours.
    // Chains are not swept by comment: another minipod with its own run dir may own them.
    const liveContainerIds = new Set([...liveIds].map(cniContainerId));
    const def = loadDefaultListQuietly(paths);
    const freed: string[] = [];
    for (const list of def ? [def, ...lists] : lists) {
      for (const store of hostLocalStores(list, paths)) {
        if (store.ours) freed.push(...releaseIpamEntries(store, (id) => liveContainerIds.has(id)));
      }
    }
    if (freed.length > 0)
      report.warnings.push(...(await removeRules('accept rules of freed addresses', (t) => planAddressRemoval(t, freed))));
    report.warnings.push(...(await cleanHostIfIdle(paths, lists)));
  });
  return report;
}
