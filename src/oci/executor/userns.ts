/**
 * A container in a new user namespace (config.json `user` without path, with
 * linux.uidMappings/gidMappings): how its init is spawned and given its maps.
 *
 * runc's order, done with util-linux because Node may not enter a user namespace
 * (src/process/helper-client.ts, newUserNamespaceCommand): namespaces given by path are joined
 * first, by the runtime's main thread as for any container (so they stay the host's); then one
 * unshare(2) makes the user namespace and the new pid, network, IPC and UTS namespaces it owns;
 * the helper makes its mount and cgroup namespaces itself, inside. The runtime, root in the
 * parent namespace, writes uid_map and gid_map once the helper reports ready, before it sends
 * the plan; `setgroups` stays "allow" (the maps are written by a privileged process, as runc
 * does as root; "deny" is only needed for an unprivileged writer).
 */
import fs from 'node:fs';
import { inContext } from '../../errors.js';
import type { NamespaceRequest, NamespaceType } from '../config/linux.js';
import { idMapFileText, type IdMappings, mapToHost } from '../config/idmap.js';

const UNSHARE_FLAG: Partial<Record<NamespaceType, string>> = { pid: '--pid', network: '--net', ipc: '--ipc', uts: '--uts' };

export interface UsernsSpawn {
  /** Namespaces the runtime's main thread joins before spawning (those given by path). */
  joined: NamespaceRequest[];
  /** util-linux unshare flags for the new ones, made with (and owned by) the user namespace. */
  unshare: string[];
  /** The user namespace is this one (given by path), not a new one. */
  join?: string;
}

/**
 * Pure: which namespaces the runtime joins and which util-linux unshares with (or inside) the
 * user namespace; undefined when the container has no user namespace to set up (none, or one
 * given by path with every other namespace joined by path too: nsenter --user does it all,
 * the pod path of from-plan.ts).
 */
export function planUsernsSpawn(requests: readonly NamespaceRequest[]): UsernsSpawn | undefined {
  const user = requests.find((r) => r.type === 'user');
  if (!user) return undefined;
  const unshare = requests.flatMap((r) => (r.path === undefined && UNSHARE_FLAG[r.type] ? [UNSHARE_FLAG[r.type]!] : []));
  if (user.path !== undefined && unshare.length === 0) return undefined;
  const plan: UsernsSpawn = { joined: requests.filter((r) => r.path !== undefined && r.type !== 'user'), unshare };
  if (user.path !== undefined) plan.join = user.path;
  return plan;
}

/** The kernel takes each map once, in one write (proc(5)): gid_map first, as runc does. */
export function writeIdMappings(pid: number, maps: IdMappings): void {
  inContext(`write /proc/${pid}/gid_map`, () => fs.writeFileSync(`/proc/${pid}/gid_map`, idMapFileText(maps.gid)));
  inContext(`write /proc/${pid}/uid_map`, () => fs.writeFileSync(`/proc/${pid}/uid_map`, idMapFileText(maps.uid)));
}

/**
 * Gives a file the runtime made for the init (the exec fifo) to the namespace's root, as runc
 * chowns its exec.fifo: the init opens it as that root, which has no power over host root's files.
 */
export function chownToNamespaceRoot(file: string, maps: IdMappings): void {
  fs.chownSync(file, mapToHost(maps.uid, 0)!, mapToHost(maps.gid, 0)!);
}

/** Writes `pid` into each cgroup.procs (host root may); what is left for the helper: nothing. */
export function joinCgroupsFromHost(cgroupProcs: readonly string[], pid: number): string[] {
  for (const file of cgroupProcs) inContext(`write ${file}`, () => fs.writeFileSync(file, String(pid)));
  return [];
}
