/**
 * Operations on a pod from outside its supervisor: stop, kill, remove, and gc. They ask the
 * daemon that supervises a live pod (src/daemon); when the supervisor is gone they tear the pod
 * down themselves from what is on the host.
 */
import { gcHeldPool } from './held-pool.js';
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupManager } from '../cgroups/manager.js';
import { UserError } from '../errors.js';
import { gcNetwork } from '../network/index.js';
import { podNetworkIds } from './network-teardown.js';
import { type MinipodPaths, networkFiles, podLayout, podsLibDir, podsRunDir } from '../paths.js';
import {
  isAlive,
  isTerminalPhase,
  listPodNames,
  pidExists,
  readPodState,
  requirePodState,
  withPodLock,
  writePodState,
  type PodState,
} from '../state/pod-state.js';
import type { Syscall } from '../syscall/syscall.js';
import { removeStaleTempFiles } from '../state/lock.js';
import { unmountAllUnder } from './host-mounts.js';
import { teardownPod } from './teardown.js';

export interface PodControl {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
  warn: (message: string) => void;
  /**
   * Asks the live supervisor of a pod (the daemon) to stop it; resolves once it is down
   * ('stopped'), when the supervisor does not run this pod ('unknown'), or when nothing answers
   * ('no-answer'). Given by the CLI, which talks to the daemon; without it, 'no-answer'.
   */
  stopSupervised?: (pod: string, graceSeconds?: number) => Promise<'stopped' | 'unknown' | 'no-answer'>;
}

/** A pod has live processes while its supervisor, its init or any container still runs. */
export function podIsActive(state: PodState): boolean {
  if (isAlive(state.supervisor) && !isTerminalPhase(state.phase)) return true;
  if (isAlive(state.init)) return true;
  return state.containers.some((c) => c.pid !== undefined && c.startTime !== undefined && isAlive({ pid: c.pid, startTime: c.startTime }));
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Tears a pod down without its supervisor. A detached pod keeps its record, marked as failed;
 * an attached one (its `run` was killed) leaves nothing but its logs, as a finished `run` does.
 */
async function teardownOrphan(c: PodControl, state: PodState, reason: string): Promise<void> {
  await teardownPod(state.name, { ...c, keepLogs: true, keepState: state.keepRecord ?? false });
  if (!state.keepRecord) return;
  const after = readPodState(c.paths, state.name) ?? state;
  writePodState(c.paths, {
    ...after,
    phase: after.phase === 'Succeeded' ? 'Succeeded' : 'Failed',
    init: undefined,
    netnsPath: undefined,
    containers: after.containers.map((ct) =>
      ct.state === 'terminated' ? ct : { ...ct, state: 'terminated', pid: undefined, startTime: undefined, reason },
    ),
  });
}

/**
 * Stops a pod: SIGTERM to each container, SIGKILL after the grace period, teardown. Keeps the
 * record. Waits until it is done.
 */
export async function stopPod(c: PodControl, name: string, graceSeconds?: number): Promise<void> {
  const state = requirePodState(c.paths, name);
  if (isAlive(state.supervisor) && !isTerminalPhase(state.phase)) {
    // The daemon stops it in order and keeps the record; it answers once the pod is down.
    const answer = c.stopSupervised ? await c.stopSupervised(name, graceSeconds) : 'no-answer';
    if (answer === 'stopped') return;
    // No daemon runs this pod (it died in it, or is going away): what is on the host is orphaned.
    if (answer === 'no-answer' && !(await waitUntil(() => !isAlive(state.supervisor), 10_000))) {
      c.warn(`the supervisor of ${name} (pid ${state.supervisor.pid}) does not answer; tearing the pod down directly`);
    }
  }
  if (podIsActive(state) || !isTerminalPhase(state.phase)) {
    await teardownOrphan(c, state, 'Stopped');
  }
}

/** Sends a signal to the pod's containers (or one of them); the supervisor applies the restart policy. */
export function killPod(c: PodControl, name: string, signal: NodeJS.Signals, container?: string): number {
  const state = requirePodState(c.paths, name);
  const targets = state.containers.filter((ct) => !container || ct.name === container);
  if (container && targets.length === 0) {
    throw new UserError(`pod "${name}" has no container "${container}"`, { code: 'container.not-found' });
  }
  let sent = 0;
  for (const ct of targets) {
    if (ct.state !== 'running' || ct.pid === undefined || ct.startTime === undefined) continue;
    if (!isAlive({ pid: ct.pid, startTime: ct.startTime })) continue;
    process.kill(ct.pid, signal);
    sent++;
  }
  if (sent === 0)
    throw new UserError(`pod "${name}" has no running container${container ? ` "${container}"` : ''}`, { code: 'pod.not-running' });
  return sent;
}

/** Removes a pod's record and logs; `force` stops a running pod first (without grace). */
export async function removePod(c: PodControl, name: string, force: boolean): Promise<void> {
  const state = requirePodState(c.paths, name);
  if (podIsActive(state)) {
    if (!force) {
      throw new UserError(`pod "${name}" is running: stop it first, or use \`minipod rm -f ${name}\``, { code: 'pod.running' });
    }
    await stopPod(c, name, 0);
  }
  await teardownPod(name, { ...c, keepLogs: false, keepState: false });
}

export interface GcReport {
  pods: string[];
  cgroups: string[];
  network: string[];
  mounts: string[];
  /** Temp files of dead writers removed. */
  files: string[];
}

/**
 * Whether a pod is live *now*: its name is claimed and its supervisor runs (or it is so young
 * that it has no state yet). Decided per candidate at the moment gc acts on it, because a pod
 * that starts while gc runs claims its name before it creates cgroups or network: a list
 * taken at the start of gc would miss it and gc would destroy what it just made.
 */
function isLivePod(paths: MinipodPaths, name: string): boolean {
  const dir = podLayout(paths, name).runDir;
  let claimedAt: number;
  try {
    claimedAt = fs.statSync(dir).mtimeMs;
  } catch {
    return false;
  }
  const state = readPodState(paths, name);
  if (!state) return Date.now() - claimedAt < 60_000;
  return isAlive(state.supervisor) && !isTerminalPhase(state.phase);
}

/**
 * Frees everything whose owner is gone: pods whose supervisor died (torn down, record kept as
 * Failed), cgroups and network reservations of pods minipod has no live record of, and mounts
 * or directories below the pods' folders that belong to no live pod.
 */
export async function gc(c: PodControl): Promise<GcReport> {
  const report: GcReport = { pods: [], cgroups: [], network: [], mounts: [], files: [] };
  for (const name of listPodNames(c.paths)) {
    if (isLivePod(c.paths, name)) continue;
    const state = readPodState(c.paths, name);
    if (!state) {
      await withPodLock(c.paths, name, () => teardownPod(name, { ...c, keepLogs: true }));
      report.pods.push(name);
    } else if (!isTerminalPhase(state.phase) || podIsActive(state)) {
      await withPodLock(c.paths, name, () => teardownOrphan(c, state, 'SupervisorGone'));
      report.pods.push(name);
    }
  }
  for (const name of c.cgroups.listPods()) {
    if (isLivePod(c.paths, name)) continue;
    await c.cgroups.destroy(name);
    report.cgroups.push(name);
  }
  // Pooled conmons of a daemon that is gone (they exit by themselves) and of pods without a record.
  await gcHeldPool(c.paths);
  // A pod's network is recorded under its uid (network-teardown.ts), or its name before.
  const live = listPodNames(c.paths)
    .filter((n) => isLivePod(c.paths, n))
    .flatMap((n) => podNetworkIds(n, readPodState(c.paths, n)?.uid));
  const net = await gcNetwork(live, c.paths);
  report.network.push(...net.removed);
  for (const w of net.warnings) c.warn(w);
  // Half-written state files of writers killed between write and rename.
  for (const dir of [c.paths.runDir, podsRunDir(c.paths), networkFiles(c.paths).dir, networkFiles(c.paths).podsDir]) {
    report.files.push(...removeStaleTempFiles(dir, pidExists));
  }
  // Mounts and scratch dirs of pods that are no longer live.
  for (const base of [podsRunDir(c.paths), podsLibDir(c.paths)]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      if (isLivePod(c.paths, name)) continue;
      const stuck = unmountAllUnder(c.sys, [path.join(base, name)]);
      report.mounts.push(...stuck.map((m) => `could not unmount ${m}`));
      if (base === podsLibDir(c.paths)) fs.rmSync(path.join(base, name), { recursive: true, force: true });
    }
  }
  return report;
}
