/**
 * Spawning the container's helper into the namespaces config.json asks for: on the main thread
 * and in one synchronous block (docs/architecture.md, src/namespaces/pod-namespaces.ts), join
 * those given by path, unshare the new ones, spawn, and go back. Mount and cgroup namespaces
 * are the helper's own business (it unshares them itself); a user namespace given by path is
 * joined by nsenter before node starts (a multi-threaded process cannot).
 */
import fs from 'node:fs';
import { CLONE } from '../../../native-bindings/constants.js';
import { configError } from '../config/errors.js';
import type { NamespaceRequest, NamespaceType } from '../config/linux.js';
import type { Syscall } from '../../syscall/syscall.js';

const SPAWN_FLAGS: Partial<Record<NamespaceType, number>> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
};

const PROC_NAME: Partial<Record<NamespaceType, string>> = { pid: 'pid_for_children', network: 'net', ipc: 'ipc', uts: 'uts' };

export function spawnInOciNamespaces<T>(sys: Syscall, requests: readonly NamespaceRequest[], spawn: () => T): T {
  const handled = requests.filter((r) => SPAWN_FLAGS[r.type] !== undefined);
  const saved: [number, number][] = [];
  const joins: [number, number, string][] = [];
  try {
    for (const r of handled) saved.push([fs.openSync(`/proc/thread-self/ns/${PROC_NAME[r.type]}`, 'r'), SPAWN_FLAGS[r.type]!]);
    handled.forEach((r) => {
      if (!r.path) return;
      const at = `linux.namespaces[${requests.indexOf(r)}].path`;
      let fd: number;
      try {
        fd = fs.openSync(r.path, 'r');
      } catch (err) {
        throw configError(at, `${r.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      joins.push([fd, SPAWN_FLAGS[r.type]!, at]);
    });
  } catch (err) {
    for (const [fd] of [...saved, ...joins]) fs.closeSync(fd);
    throw err;
  }
  try {
    for (const [fd, flag, at] of joins) {
      try {
        sys.setns(fd, flag);
      } catch (err) {
        throw configError(at, `not a namespace of that type, or not joinable (${(err as Error).message})`);
      }
    }
    const flags = handled.filter((r) => !r.path).reduce((acc, r) => acc | SPAWN_FLAGS[r.type]!, 0);
    if (flags !== 0) sys.unshare(flags);
    return spawn();
  } finally {
    for (const [fd] of joins) fs.closeSync(fd);
    let restoreError: unknown;
    for (const [fd, flag] of saved) {
      try {
        sys.setns(fd, flag);
      } catch (err) {
        restoreError ??= err;
      } finally {
        fs.closeSync(fd);
      }
    }
    if (restoreError) {
      process.stderr.write(`minipod-oci: fatal: could not return to the host namespaces: ${String(restoreError)}\n`);
      process.exit(1);
    }
  }
}
