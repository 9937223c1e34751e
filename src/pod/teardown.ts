/**
 * Removing everything a pod has on the host, from what can be found on the host: the state
 * file if there is one, the cgroups, the network reservations, the mounts below the pod's
 * directories. The same code serves a normal stop, a start that failed half-way, `rm -f` of a
 * pod whose supervisor died, and `gc`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupManager } from '../cgroups/manager.js';
import { teardownPodNetwork } from '../network/index.js';
import type { MinipodPaths } from '../paths.js';
import { isAlive, type ProcessRef, readPodState } from '../state/pod-state.js';
import type { Syscall } from '../syscall/syscall.js';
import { unmountAllUnder } from './host-mounts.js';
import { podLayout } from './layout.js';

/** What a stopped pod's record keeps: its state and the spec to restart it from. */
const KEPT_FILES = new Set(['state.json', 'spec.json']);

export interface TeardownOptions {
  paths: MinipodPaths;
  sys: Syscall;
  cgroups: CgroupManager;
  warn: (message: string) => void;
  /** Processes the caller knows of that may not be in the state file yet. */
  extraProcesses?: ProcessRef[];
  /** Keep the pod's log directory (logs outlive the pod until `rm`). */
  keepLogs?: boolean;
  /** Keep state.json (a detached pod's record, for `ps -a` and `logs`, until `rm`). */
  keepState?: boolean;
}

function killIfAlive(ref: ProcessRef | undefined): void {
  if (ref && isAlive(ref)) {
    try {
      process.kill(ref.pid, 'SIGKILL');
    } catch {
      // Gone in between.
    }
  }
}

async function waitGone(refs: ProcessRef[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (refs.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

export async function teardownPod(name: string, o: TeardownOptions): Promise<void> {
  const layout = podLayout(o.paths, name);
  const state = readPodState(o.paths, name);
  const processes: ProcessRef[] = [...(o.extraProcesses ?? [])];
  for (const c of state?.containers ?? []) {
    if (c.pid && c.startTime !== undefined && c.state === 'running') processes.push({ pid: c.pid, startTime: c.startTime });
  }
  for (const p of processes) killIfAlive(p);

  // CNI DEL while the pod's init still holds the network namespace: the plugins then remove
  // the veth from inside as well as outside.
  await teardownPodNetwork({ podId: name, paths: o.paths, warn: o.warn }).catch((err: unknown) =>
    o.warn(`network teardown of ${name}: ${(err as Error).message}`),
  );

  if (state?.init) processes.push(state.init);
  killIfAlive(state?.init);
  try {
    await o.cgroups.destroy(name);
  } catch (err) {
    o.warn(`cgroup teardown of ${name}: ${(err as Error).message}`);
  }
  if (!(await waitGone(processes, 5000))) {
    o.warn(`processes of ${name} did not exit: ${processes.filter(isAlive).map((p) => p.pid).join(' ')}`);
  }

  const stuck = unmountAllUnder(o.sys, [layout.runDir, layout.libDir]);
  if (stuck.length) o.warn(`could not unmount ${stuck.join(', ')}`);
  const remove = (target: string): void => {
    try {
      fs.rmSync(target, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      o.warn(`could not remove ${target}: ${(err as Error).message}`);
    }
  };
  remove(layout.libDir);
  if (o.keepState && fs.existsSync(layout.runDir)) {
    for (const entry of fs.readdirSync(layout.runDir)) {
      if (!KEPT_FILES.has(entry)) remove(path.join(layout.runDir, entry));
    }
  } else {
    remove(layout.runDir);
  }
  if (!o.keepLogs) fs.rmSync(layout.logDir, { recursive: true, force: true });
}
