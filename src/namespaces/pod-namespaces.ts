/**
 * Creating and joining the pod's shared namespaces from the supervisor.
 *
 * Namespace calls act on the calling thread only, and Node cannot fork. So, on the main thread
 * and in one synchronous block: remember the current namespaces, unshare (or setns into the
 * pod's), spawn the helper process (it inherits the thread's namespaces; the first child after
 * unshare(CLONE_NEWPID) is PID 1 of the new PID namespace), and setns back. Nothing async may run
 * in between: while the thread sits in the pod's network namespace, sockets it opens land there.
 */
import fs from 'node:fs';
import { CLONE } from '../../native-bindings/constants.js';
import type { Syscall } from '../syscall/syscall.js';

export type SharedNamespace = 'pid' | 'net' | 'ipc' | 'uts';

export const NAMESPACE_FLAG: Record<SharedNamespace, number> = {
  pid: CLONE.NEWPID,
  net: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
};

/** The /proc entry that setns needs to restore what new children get. */
function selfNamespacePath(ns: SharedNamespace): string {
  return `/proc/thread-self/ns/${ns === 'pid' ? 'pid_for_children' : ns}`;
}

/** The namespaces the pod shares; hostNetwork pods keep the host's network and hostname. */
export function podSharedNamespaces(pod: { hostNetwork: boolean }): SharedNamespace[] {
  const ns: SharedNamespace[] = ['pid', 'ipc'];
  if (!pod.hostNetwork) ns.push('net', 'uts');
  return ns;
}

/**
 * How a container's helper enters the pod: it joins the init's namespaces, and creates a PID
 * namespace of its own unless the pod shares one (shareProcessNamespace).
 */
export function containerNamespaceEntry(pod: { hostNetwork: boolean; shareProcessNamespace: boolean }, initPid: number): NamespaceEntry {
  const shared = podSharedNamespaces(pod);
  if (pod.shareProcessNamespace) return { create: [], join: { pid: initPid, namespaces: shared } };
  return { create: ['pid'], join: { pid: initPid, namespaces: shared.filter((n) => n !== 'pid') } };
}

export interface NamespaceEntry {
  /** Namespaces to create fresh for the child. */
  create: SharedNamespace[];
  /** Namespaces to join, from a process that is already in them (the pod's init). */
  join: { pid: number; namespaces: SharedNamespace[] } | null;
}

/** Opens namespace files; the fs module is passed in so tests can use a temp dir. */
export interface NamespaceFiles {
  open(path: string): number;
  close(fd: number): void;
}

const realFiles: NamespaceFiles = {
  open: (p) => fs.openSync(p, 'r'),
  close: (fd) => fs.closeSync(fd),
};

/**
 * Runs `spawn` with the calling thread moved into the requested namespaces, then moves it back.
 * Joins happen before creates, so a container with its own PID namespace can still join the
 * pod's network, IPC and UTS namespaces.
 */
export function spawnInNamespaces<T>(sys: Syscall, entry: NamespaceEntry, spawn: () => T, files: NamespaceFiles = realFiles): T {
  const touched = new Set<SharedNamespace>([...entry.create, ...(entry.join?.namespaces ?? [])]);
  const saved = new Map<SharedNamespace, number>();
  for (const ns of touched) saved.set(ns, files.open(selfNamespacePath(ns)));
  try {
    if (entry.join) {
      for (const ns of entry.join.namespaces) {
        const fd = files.open(`/proc/${entry.join.pid}/ns/${ns}`);
        try {
          sys.setns(fd, NAMESPACE_FLAG[ns]);
        } finally {
          files.close(fd);
        }
      }
    }
    const flags = entry.create.reduce((acc, ns) => acc | NAMESPACE_FLAG[ns], 0);
    if (flags !== 0) sys.unshare(flags);
    return spawn();
  } finally {
    // Restoring must not fail half-way silently: a supervisor left in a pod's network
    // namespace would open every later socket there.
    let restoreError: unknown;
    for (const [ns, fd] of saved) {
      try {
        sys.setns(fd, NAMESPACE_FLAG[ns]);
      } catch (err) {
        restoreError ??= err;
      } finally {
        files.close(fd);
      }
    }
    if (restoreError) {
      process.stderr.write(`minipod: fatal: could not return to the host namespaces: ${String(restoreError)}\n`);
      process.exit(125);
    }
  }
}
