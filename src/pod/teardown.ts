/**
 * Removing everything a pod has on the host, from what can be found on the host: the state
 * file if there is one, the cgroups, the network reservations, the mounts below the pod's
 * directories. The same code serves a normal stop, a start that failed half-way, `rm -f` of a
 * pod whose supervisor died, and `gc`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CgroupManager } from '../cgroups/manager.js';
import { holdPodNetns, podNetworkRecord, teardownPodNetwork } from '../network/index.js';
import { attachSocketDir, type MinipodPaths, podLayout, podOciRoot } from '../paths.js';
import { errorLine } from '../errors.js';
import { isAlive, type ProcessRef, readPodSpec, readPodState } from '../state/pod-state.js';
import { removeEphemeralVolumes } from '../volumes/store.js';
import type { Syscall } from '../syscall/syscall.js';
import { freeRange } from '../userns/allocator.js';
import { unmountAllUnder } from './host-mounts.js';
import { heldContainerId } from './held-container.js';
import { removePodPooledEntries } from './held-pool.js';
import { type NetworkDeferral, planNetworkTeardown, podNetworkIds } from './network-teardown.js';

/** The OCI runtime's records of the pod's containers, and conmon attach links left dangling by a killed conmon. */
function removeHeldLeftovers(paths: MinipodPaths, pod: string): void {
  const prefix = heldContainerId(pod, '');
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const id of list(podOciRoot(paths))) {
    if (id.startsWith(prefix)) fs.rmSync(path.join(podOciRoot(paths), id), { recursive: true, force: true });
  }
  // Pooled conmons the pod took (their bundles are not in its run dir).
  removePodPooledEntries(paths, pod);
  for (const link of list(attachSocketDir(paths))) {
    const p = path.join(attachSocketDir(paths), link);
    if (!fs.existsSync(p)) fs.rmSync(p, { force: true });
  }
}

function hasEphemeralVolumes(paths: MinipodPaths, pod: string): boolean {
  // No spec: the pod never got as far as its volumes.
  return (readPodSpec(paths, pod)?.volumes ?? []).some((v) => v.source?.kind === 'ephemeral');
}

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
  /** Leave the host's bridge and chains up when this was the last pod (the daemon's choice). */
  keepHostNetwork?: boolean;
  /** Steps, for MINIPOD_TRACE. */
  trace?: (step: string) => void;
  /** The daemon finishes the pod's CNI DEL after it answered (network-teardown.ts); without it DEL runs here. */
  deferNetwork?: NetworkDeferral;
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
  const start = Date.now();
  while (refs.some(isAlive)) {
    const waited = Date.now() - start;
    if (waited > timeoutMs) return false;
    // A killed process is usually gone within a few ms: poll closely first.
    await new Promise((r) => setTimeout(r, waited < 50 ? 1 : 10));
  }
  return true;
}

/**
 * CNI DEL while the pod's init still holds the network namespace: the plugins then remove the
 * veth from inside as well as outside. The daemon's DEL runs after it answered, on the
 * namespace held open by a file descriptor; its record stays until it is done, so `gc` after a
 * crash still finds it.
 */
async function teardownNetwork(name: string, uid: string | undefined, o: TeardownOptions): Promise<boolean> {
  const ids = podNetworkIds(name, uid);
  const records = ids.map((id) => ({ id, ...podNetworkRecord(o.paths, id) }));
  const plan = planNetworkTeardown({
    ids,
    attached: records.filter((r) => r.attached).map((r) => r.id),
    withPorts: records.filter((r) => r.ports).map((r) => r.id),
    pending: ids.filter((id) => o.deferNetwork?.pending(id)),
    canDefer: o.deferNetwork !== undefined,
  });
  for (const podId of plan.background) {
    const held = holdPodNetns(o.paths, podId);
    o.deferNetwork!.add({
      podId,
      pod: name,
      run: (warn) =>
        teardownPodNetwork({ podId, netnsPath: held?.path, paths: o.paths, warn, keepHost: o.keepHostNetwork }).finally(() =>
          held?.release(),
        ),
    });
  }
  for (const podId of plan.now) await teardownPodNetwork({ podId, paths: o.paths, warn: o.warn, keepHost: o.keepHostNetwork });
  return plan.background.length > 0;
}

export async function teardownPod(name: string, o: TeardownOptions): Promise<void> {
  const layout = podLayout(o.paths, name);
  // Every step is tried whatever the one before did: a failure is a warning saying which step
  // of which pod, on what, and what to check, and the next step still runs.
  const step = async <T>(what: string, fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      o.warn(`${what} of pod ${name}: ${errorLine(err)}`);
      return undefined;
    }
  };
  const state = await step('read the state', () => readPodState(o.paths, name));
  const processes: ProcessRef[] = [...(o.extraProcesses ?? [])];
  for (const c of state?.containers ?? []) {
    if (c.pid && c.startTime !== undefined && c.state === 'running') processes.push({ pid: c.pid, startTime: c.startTime });
  }
  const trace = o.trace ?? (() => {});
  for (const p of processes) killIfAlive(p);
  // Each conmon exits by itself once its container did (after writing its exit file and the
  // last output): waited for, killed only if it does not.
  const conmons = (state?.containers ?? []).flatMap((c) => (c.held ? [c.held.conmon] : []));

  const deferred = await step('tear down the network', () => teardownNetwork(name, state?.uid, o));
  trace(deferred ? 'teardown: network handed to the daemon' : 'teardown: network done');
  if (state?.init) processes.push(state.init);
  killIfAlive(state?.init);
  // The known processes first: a cgroup cannot be removed until its last task has exited,
  // and polling rmdir is slower than waiting for them. Strays (exec'd processes the state
  // does not list) are killed through the cgroups next.
  if (!(await waitGone([...processes, ...conmons], 5000))) {
    for (const p of conmons) killIfAlive(p);
    await waitGone(conmons, 1000);
    const left = [...processes, ...conmons].filter(isAlive);
    if (left.length > 0) o.warn(`processes of ${name} did not exit: ${left.map((p) => p.pid).join(' ')}`);
  }
  await step('remove the OCI runtime state', () => removeHeldLeftovers(o.paths, name));
  trace('teardown: processes gone');
  await step('remove the cgroups', () => o.cgroups.destroy(name));
  trace('teardown: cgroups removed');

  const stuck = unmountAllUnder(o.sys, [layout.runDir, layout.libDir]);
  if (stuck.length) o.warn(`could not unmount ${stuck.join(', ')}`);
  trace('teardown: unmounted');
  const remove = (target: string): Promise<void> =>
    step(`remove ${target}`, () => fs.rmSync(target, { recursive: true, force: true, maxRetries: 3 }));
  await remove(layout.libDir);
  // Ephemeral volumes go with their pod (as Kubernetes deletes their claims with it). The
  // spec says whether there are any, so a pod without them pays no look at the volume store.
  if (hasEphemeralVolumes(o.paths, name)) await step('remove the ephemeral volumes', () => removeEphemeralVolumes(o.paths, name));
  if (o.keepState && fs.existsSync(layout.runDir)) {
    // What a stopped pod's record keeps: its state and the spec to restart it from.
    const kept = new Set([layout.stateFile, layout.specFile]);
    await step('clear the record', async () => {
      for (const entry of fs.readdirSync(layout.runDir)) {
        if (!kept.has(path.join(layout.runDir, entry))) await remove(path.join(layout.runDir, entry));
      }
    });
  } else {
    await remove(layout.runDir);
  }
  if (!o.keepLogs) await remove(layout.logDir);
  // Its files are gone with the lib dir: the pod's id range is free for the next pod.
  await step('free the user namespace range', () => freeRange(o.sys, o.paths, name));
  trace('teardown: files removed');
}
