/**
 * Taking the snapshot of one pod (the edge). minipod's state file is used for two things only:
 * to find the pod's processes and cgroups, and to compare. Every fact in the snapshot comes from
 * /proc, the cgroup filesystems and the network; when the recorded pid of a container is gone or
 * is another process now, the process found in the container's cgroup is shown instead, and the
 * difference is reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { planPodCgroups } from '../cgroups/plan.js';
import type { PodSpec } from '../manifest/types.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { MinipodPaths } from '../paths.js';
import { type PodState, isTerminalPhase, readPodSpec, requirePodState } from '../state/pod-state.js';
import { type Expected, findDifferences } from './differences.js';
import { groupNamespaces } from './namespaces.js';
import { classifyMounts, parseMountinfo, parseOverlayOptions, parseStat } from './proc-parse.js';
import { readCgroup, readCgroupTree, readHierarchies } from './read-cgroups.js';
import { readListeningPorts, hasDnat, readNatTable, readPodInterfaces } from './read-network.js';
import { pidsInCgroup, readChildrenIndex, readNamespaces, readProcessTree } from './read-process.js';
import {
  SNAPSHOT_SCHEMA,
  type CgroupHierarchy,
  type ExplainSnapshot,
  type Member,
  type MemberKind,
  type NamespaceType,
  type NetworkFacts,
  type ProcessNode,
  type RecordedMember,
} from './snapshot.js';

/** A recorded cgroup directory (`/sys/fs/cgroup/memory/minipod/blog`) -> its path in the hierarchy. */
function relativeCgroupPath(hierarchies: CgroupHierarchy[], dirs: string[]): string | undefined {
  for (const dir of dirs) {
    for (const h of hierarchies) {
      if (h.mountPoint && dir.startsWith(`${h.mountPoint}/`)) return dir.slice(h.mountPoint.length);
    }
  }
  return undefined;
}

/** The hierarchy explain reads a process's cgroup path from: cgroup2 where it is mounted, else the first v1 one. */
function processCgroupPath(p: ProcessNode, hierarchies: CgroupHierarchy[]): string | undefined {
  const mounted = (id: number): boolean => hierarchies.some((h) => h.id === id && h.mountPoint);
  return (p.cgroups.find((c) => c.hierarchyId === 0 && mounted(0)) ?? p.cgroups.find((c) => mounted(c.hierarchyId)))?.path;
}

/** The processes of a cgroup whose parent is outside it: its main processes, as the kernel sees them. */
function topProcessesIn(hierarchies: CgroupHierarchy[], cgroupPath: string): number[] {
  const h = hierarchies.find((x) => x.mountPoint && fs.existsSync(path.join(x.mountPoint, cgroupPath)));
  if (!h) return [];
  const pids = pidsInCgroup(path.join(h.mountPoint!, cgroupPath));
  const inside = new Set(pids);
  return pids.filter((pid) => {
    try {
      return !inside.has(parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).ppid);
    } catch {
      return false;
    }
  });
}

interface MemberInput {
  name: string;
  kind: MemberKind;
  recorded: RecordedMember;
  cgroupPath?: string;
}

function readMember(input: MemberInput, hierarchies: CgroupHierarchy[], children: Map<number, number[]>): Member {
  let process: ProcessNode | null = null;
  const rec = input.recorded;
  if (rec.pid !== undefined) {
    const tree = readProcessTree(rec.pid, children);
    // Same pid, other start time: the pid was recycled, it is not our process.
    if (tree && (rec.startTime === undefined || tree.startTime === rec.startTime) && tree.state !== 'Z') process = tree;
  }
  if (!process && input.cgroupPath) {
    const top = topProcessesIn(hierarchies, input.cgroupPath)[0];
    if (top !== undefined) process = readProcessTree(top, children) ?? null;
  }
  const cgroupPath = (process && processCgroupPath(process, hierarchies)) ?? input.cgroupPath;
  const cgroup = cgroupPath ? readCgroup(hierarchies, cgroupPath) : undefined;
  const member: Member = { name: input.name, kind: input.kind, recorded: rec, process, ...(cgroup ? { cgroup } : {}), mounts: [] };
  if (process) {
    try {
      member.mounts = classifyMounts(parseMountinfo(fs.readFileSync(`/proc/${process.pid}/mountinfo`, 'utf8')));
    } catch {
      // gone meanwhile
    }
    const root = member.mounts.find((m) => m.role === 'rootfs');
    if (root) {
      member.rootfs = {
        fsType: root.fsType,
        readOnly: root.readOnly,
        ...(root.fsType === 'overlay' ? parseOverlayOptions(root.superOptions) : {}),
      };
    }
  }
  return member;
}

function recordedMembers(state: PodState, hierarchies: CgroupHierarchy[]): MemberInput[] {
  const podPath = relativeCgroupPath(hierarchies, state.cgroupPaths);
  const initRunning = !!state.init && !isTerminalPhase(state.phase);
  const out: MemberInput[] = [
    {
      name: 'init',
      kind: 'init',
      recorded: {
        state: initRunning ? 'running' : 'terminated',
        ...(state.init ? { pid: state.init.pid, startTime: state.init.startTime } : {}),
      },
      ...(podPath ? { cgroupPath: `${podPath}/init` } : {}),
    },
  ];
  for (const c of state.containers) {
    const cgroupPath = relativeCgroupPath(hierarchies, c.cgroupPaths) ?? (podPath ? `${podPath}/${c.name}` : undefined);
    out.push({
      name: c.name,
      kind: c.init ? 'initContainer' : 'container',
      recorded: {
        state: c.state,
        ...(c.pid !== undefined && c.state === 'running' ? { pid: c.pid } : {}),
        ...(c.startTime !== undefined && c.state === 'running' ? { startTime: c.startTime } : {}),
        restartCount: c.restartCount,
        ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
      },
      ...(cgroupPath ? { cgroupPath } : {}),
    });
  }
  return out;
}

function readNetwork(state: PodState, init: Member | undefined, hostNetns: number | undefined): NetworkFacts {
  const recorded = (state.network ?? { mode: 'none', ports: [] }) as PodNetworkStatus;
  const pid = init?.process?.pid;
  const netns = init?.process?.namespaces.net;
  const facts: NetworkFacts = {
    mode: recorded.mode,
    ...(netns !== undefined ? { netns } : {}),
    hostNetns: netns !== undefined && netns === hostNetns,
    interfaces: [],
    ports: [],
  };
  if (pid === undefined) return facts;
  if (!facts.hostNetns) {
    const { interfaces, error } = readPodInterfaces(pid);
    facts.interfaces = interfaces;
    if (error) facts.error = error;
    const main = interfaces.find((i) => i.name === recorded.interface) ?? interfaces[0];
    const v4 = main?.addresses.find((a) => !a.includes(':'));
    if (v4) facts.ip = v4.split('/')[0];
  }
  const nat = recorded.ports.length > 0 && !facts.hostNetns ? readNatTable() : '';
  const listening = readListeningPorts(pid);
  facts.ports = recorded.ports.map((p) => ({
    container: p.containerName,
    containerPort: p.containerPort,
    hostPort: p.hostPort,
    hostIP: p.hostIP,
    protocol: p.protocol,
    dnat: !!facts.ip && hasDnat(nat, p.hostPort, facts.ip, p.containerPort, p.protocol),
    ...(p.protocol === 'TCP' ? { listening: listening.has(p.containerPort) } : {}),
  }));
  return facts;
}

function expectedFrom(spec: PodSpec | undefined, state: PodState): Expected | undefined {
  if (!spec) return undefined;
  const limits: Expected['limits'] = new Map();
  try {
    for (const c of planPodCgroups(spec, { version: 'v2' }).cgroups) {
      limits.set(c.child, { memoryMaxBytes: c.limits.memoryMaxBytes, cpuQuotaUs: c.limits.cpuQuotaUs, pidsMax: c.limits.pidsMax });
    }
  } catch {
    // a spec this version cannot plan: compare nothing rather than something wrong
  }
  const sharedWithInit: NamespaceType[] = spec.hostNetwork ? ['ipc'] : ['net', 'ipc', 'uts'];
  if (spec.shareProcessNamespace) sharedWithInit.unshift('pid');
  const net = state.network as PodNetworkStatus | undefined;
  return {
    limits,
    sharedWithInit,
    hostOwned: spec.hostNetwork ? ['net', 'uts'] : [],
    ...(net?.mode === 'bridge' && net.ip ? { ip: net.ip } : {}),
  };
}

export function readPodSnapshot(paths: MinipodPaths, pod: string, now: () => Date = () => new Date()): ExplainSnapshot {
  const state = requirePodState(paths, pod);
  const spec = readPodSpec(paths, pod);
  const hierarchies = readHierarchies();
  // The host's namespaces are PID 1's; where PID 1's are unreadable (a non-dumpable PID 1),
  // explain's own, since explain runs on the host.
  const hostNamespaces = { ...readNamespaces('self'), ...readNamespaces(1) };
  const children = readChildrenIndex();
  const members = recordedMembers(state, hierarchies).map((m) => readMember(m, hierarchies, children));
  const init = members.find((m) => m.kind === 'init');
  const podPath = (init?.cgroup ? path.posix.dirname(init.cgroup.path) : undefined) ?? relativeCgroupPath(hierarchies, state.cgroupPaths);
  const cgroupTree = podPath ? readCgroupTree(hierarchies, podPath) : undefined;
  const partial: Omit<ExplainSnapshot, 'differences'> = {
    schema: SNAPSHOT_SCHEMA,
    takenAt: now().toISOString(),
    pod: { name: state.name, phase: state.phase, ...(state.hostname ? { hostname: state.hostname } : {}) },
    hostNamespaces,
    hierarchies,
    members,
    namespaces: groupNamespaces(members, hostNamespaces),
    ...(cgroupTree ? { cgroupTree } : {}),
    network: readNetwork(state, init, hostNamespaces.net),
  };
  return { ...partial, differences: findDifferences(partial, expectedFrom(spec, state)) };
}
