/**
 * What a pod's network needs to be undone later, even by another process after a crash:
 * the exact conflist used (the user may edit the file meanwhile), the cached ADD result for
 * DEL's prevResult, the runtime config (portmap needs the same mappings on DEL), and the
 * netns identity so DEL never enters a namespace that merely reuses the pid.
 */
import fs from 'node:fs';
import { type MinipodPaths, networkFiles, podNetworkStateFile } from '../paths.js';
import { writeFileAtomic } from '../state/lock.js';
import type { CniConfList, CniResult, CniRuntimeConfig } from './cni/types.js';

export interface PodNetworkState {
  podId: string;
  podName: string;
  /**
   * `adding` until ADD returned, `deleting` once DEL began (it runs outside the network lock);
   * gc treats a pod in either as live while `ownerPid` runs.
   */
  phase: 'adding' | 'ready' | 'deleting';
  ownerPid: number;
  containerId: string;
  ifName: string;
  netnsPath: string;
  /** `dev:ino` of the namespace at setup. */
  netnsId?: string;
  confList: CniConfList;
  runtimeConfig: CniRuntimeConfig;
  result?: CniResult;
}

export function writePodNetworkState(paths: MinipodPaths, s: PodNetworkState): void {
  writeFileAtomic(podNetworkStateFile(paths, s.podId), `${JSON.stringify(s, null, 2)}\n`, 0o600);
}

export function readPodNetworkState(paths: MinipodPaths, podId: string): PodNetworkState | undefined {
  try {
    return JSON.parse(fs.readFileSync(podNetworkStateFile(paths, podId), 'utf8')) as PodNetworkState;
  } catch {
    return undefined;
  }
}

export function removePodNetworkState(paths: MinipodPaths, podId: string): void {
  fs.rmSync(podNetworkStateFile(paths, podId), { force: true });
}

export function removeEmptyStateDir(paths: MinipodPaths): void {
  try {
    fs.rmdirSync(networkFiles(paths).podsDir);
  } catch {
    // not empty or not there
  }
}

export function listPodStates(paths: MinipodPaths): PodNetworkState[] {
  let names: string[];
  try {
    names = fs.readdirSync(networkFiles(paths).podsDir);
  } catch {
    return [];
  }
  const out: PodNetworkState[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const s = readPodNetworkState(paths, decodeURIComponent(n.slice(0, -5)));
    if (s) out.push(s);
  }
  return out;
}

/** `dev:ino` of a namespace file, or undefined if it is gone. */
export function netnsIdentity(netnsPath: string): string | undefined {
  try {
    const st = fs.statSync(netnsPath);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process runs: a zombie does not (a daemon killed with -9 stays one until PID 1
 * reaps it, and its network work must not be left to it meanwhile).
 */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * CNI container IDs must be alphanumeric plus `_.-` and start alphanumeric (spec 1.0);
 * anything else is encoded so that the same podId always gives the same ID.
 */
export function cniContainerId(podId: string): string {
  if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(podId)) return podId;
  return `p${Buffer.from(podId).toString('hex')}`;
}
