/**
 * What the daemon needs to finish a pod's CNI DEL after the pod is gone (src/pod/network-teardown.ts):
 * whether the pod has anything recorded, and its network namespace held open meanwhile.
 */
import fs from 'node:fs';
import type { MinipodPaths } from '../paths.js';
import { readReservations } from './ports.js';
import { netnsIdentity, readPodNetworkState } from './state.js';

/** Whether `podId` has a CNI attachment recorded and whether it holds host ports. */
export function podNetworkRecord(paths: MinipodPaths, podId: string): { attached: boolean; ports: boolean } {
  return {
    attached: readPodNetworkState(paths, podId) !== undefined,
    ports: readReservations(paths).some((r) => r.podId === podId),
  };
}

export interface HeldNetns {
  /** A path the plugins can open while the pod's init is gone: `/proc/<our pid>/fd/<fd>`. */
  path: string;
  release(): void;
}

/**
 * Opens the pod's network namespace while its init still holds it, so the DEL that runs after
 * the init was killed still finds the namespace and removes the veth from inside as well as
 * outside (a DEL without it leaves the kernel to drop the veth whenever it frees the namespace).
 * Undefined when the namespace is not the one ADD used (or is gone already).
 */
export function holdPodNetns(paths: MinipodPaths, podId: string): HeldNetns | undefined {
  const state = readPodNetworkState(paths, podId);
  if (!state?.netnsId || netnsIdentity(state.netnsPath) !== state.netnsId) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(state.netnsPath, 'r');
  } catch {
    return undefined;
  }
  const path = `/proc/${process.pid}/fd/${fd}`;
  // Between the check and the open the pid may have been reused: the fd must be that namespace.
  if (netnsIdentity(path) !== state.netnsId) {
    fs.closeSync(fd);
    return undefined;
  }
  let open = true;
  return {
    path,
    release: () => {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}
