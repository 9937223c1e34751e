/**
 * Containers held by conmon (docs/architecture.md, "Containers that outlive the daemon"): the
 * real host's side of a ContainerRunner in `conmon` mode. The container's plan becomes an OCI
 * bundle (src/oci's config from the plan, the pod's namespaces as `path` entries), conmon runs
 * `minipod-oci create` on it and holds the container from then on: its parent (a subreaper),
 * the reader of its output (the CRI log file) and the writer of its exit status. The daemon only
 * starts it and watches the exit file, so it can die, or be replaced, without the container
 * noticing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startConmon } from '../conmon/spawn.js';
import { claimPooledHeld, discardPooledHeld, type PooledHeld, pooledFits, removePooledEntry } from './held-pool.js';
import { watchExit } from '../conmon/exit-watch.js';
import { attachSocketDir, heldBundleDir, heldExitDir, heldPoolDir, type MinipodPaths, podOciRoot } from '../paths.js';
import type { ContainerPlan } from '../plan/types.js';
import type { NamespaceEntry, SharedNamespace } from '../namespaces/pod-namespaces.js';
import { ociConfigFromPlan } from '../oci/config/from-plan.js';
import type { NamespaceRequest } from '../oci/config/linux.js';
import { type HeldContainer, isAlive, processRef } from '../state/pod-state.js';

/** The OCI id of a pod's container: `_` is in neither a pod nor a container name. */
export function heldContainerId(pod: string, container: string): string {
  return `${pod}_${container}`;
}

export interface HeldCreateRequest {
  plan: ContainerPlan;
  /** The pod's namespaces the container joins (and the ones it creates). */
  namespaces: NamespaceEntry;
  pod: string;
  container: string;
  /** The pod's run dir: the bundle and the exit dir go below it. */
  podRunDir: string;
  logPath: string;
  oomBaseline: number;
  /** A conmon of the warm pool to use (held-pool.ts), when the pod got a pooled sandbox. */
  pooled?: PooledHeld;
  /** The container has stdin (a pooled conmon has none). */
  stdin?: boolean;
}

/** Writes an OCI bundle's config.json for a container plan (injected: the unit tests' host has none). */
export type BundleWriter = (bundle: string, plan: ContainerPlan, namespaces: NamespaceEntry) => void;

const OCI_NAMESPACE: Record<SharedNamespace, NamespaceRequest['type']> = { pid: 'pid', net: 'network', ipc: 'ipc', uts: 'uts' };

/**
 * The real writer: src/oci's config from the plan (the pod path's contract), the namespaces the
 * container shares with the pod as `path` entries of its init's, the ones it gets alone new.
 */
export const writeOciBundle: BundleWriter = (bundle, plan, entry) => {
  const namespaces: NamespaceRequest[] = [
    ...entry.create.map((n) => ({ type: OCI_NAMESPACE[n] })),
    ...(entry.join?.namespaces ?? []).map((n) => ({ type: OCI_NAMESPACE[n], path: `/proc/${entry.join!.pid}/ns/${n}` })),
  ];
  // Written aside and renamed: a pooled create waiting on the bundle never reads half a file.
  const tmp = path.join(bundle, 'config.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(ociConfigFromPlan(plan, { namespaces })), { mode: 0o600 });
  fs.renameSync(tmp, path.join(bundle, 'config.json'));
};

/** The runtime conmon runs: bin/minipod-oci beside the running bin/minipod (MINIPOD_OCI_RUNTIME overrides). */
export function ociRuntimeBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINIPOD_OCI_RUNTIME) return env.MINIPOD_OCI_RUNTIME;
  // The daemon runs as bin/minipod (maybe through a symlink): minipod-oci is beside it.
  return path.join(path.dirname(fs.realpathSync(process.argv[1] ?? '.')), 'minipod-oci');
}

export interface HeldRuntime {
  paths: MinipodPaths;
  writeBundle: BundleWriter;
  runtime: string;
  conmon: string;
}

/**
 * Creates the container under a new conmon: resolves once the runtime's create returned (the
 * container's init waits for `start`). A create that failed leaves no runtime state behind.
 */
export async function createHeldContainer(rt: HeldRuntime, r: HeldCreateRequest): Promise<{ held: HeldContainer; pid: number }> {
  const pooled = r.pooled && pooledFits(r.pooled, r.namespaces, r.stdin ?? false) ? r.pooled : undefined;
  if (r.pooled && !pooled) void discardPooledHeld(rt.paths, r.pooled);
  if (pooled) {
    try {
      claimPooledHeld(pooled, r.pod, r.logPath, (bundle) => rt.writeBundle(bundle, r.plan, r.namespaces));
    } catch {
      // Its log could not be moved (another filesystem?) or it failed while waiting: a fresh one.
      void discardPooledHeld(rt.paths, pooled);
      return createHeldContainer(rt, { ...r, pooled: undefined });
    }
    try {
      const started = await pooled.conmon.result();
      return {
        held: {
          id: pooled.id,
          conmon: processRef(started.conmonPid),
          bundle: pooled.bundle,
          exitDir: pooled.exitDir,
          oomBaseline: r.oomBaseline,
        },
        pid: started.pid,
      };
    } catch (err) {
      // The log is the container's now; the rest goes.
      removePooledEntry(rt.paths, pooled.id);
      throw err;
    }
  }
  const id = heldContainerId(r.pod, r.container);
  const bundle = heldBundleDir(r.podRunDir, r.container);
  const exitDir = heldExitDir(r.podRunDir);
  const ociRoot = podOciRoot(rt.paths);
  // The previous instance's runtime state and exit file (a restart reuses the id).
  removeRuntimeState(rt.paths, id);
  fs.rmSync(path.join(exitDir, id), { force: true });
  fs.rmSync(bundle, { recursive: true, force: true });
  fs.mkdirSync(bundle, { recursive: true, mode: 0o700 });
  fs.mkdirSync(exitDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(attachSocketDir(rt.paths), { recursive: true, mode: 0o700 });
  rt.writeBundle(bundle, r.plan, r.namespaces);
  try {
    const started = await startConmon({
      conmon: rt.conmon,
      runtime: rt.runtime,
      runtimeArgs: ['--root', ociRoot],
      id,
      // conmon names its attach socket's symlink after it: the id would be too long.
      cuuid: `${process.pid.toString(36)}${Date.now().toString(36)}-${r.container}`.slice(0, 80),
      name: r.container,
      bundle,
      exitDir,
      logPath: r.logPath,
      socketDir: attachSocketDir(rt.paths),
    });
    return {
      held: { id, conmon: processRef(started.conmonPid), bundle, exitDir, oomBaseline: r.oomBaseline },
      pid: started.pid,
    };
  } catch (err) {
    removeRuntimeState(rt.paths, id);
    throw err;
  }
}

/**
 * Lets a created container run: what runc's `start` does, without starting a process for it.
 * The container's init blocks opening `exec.fifo` for writing; opening it for reading lets it
 * through, and it writes a byte and execs.
 */
export async function startHeldContainer(rt: HeldRuntime, held: HeldContainer, timeoutMs = 30_000): Promise<void> {
  const fifo = path.join(podOciRoot(rt.paths), held.id, 'exec.fifo');
  // Non-blocking: a blocking open would hold a libuv thread for as long as no writer comes.
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const deadline = Date.now() + timeoutMs;
  try {
    // Our end stays open until the init's byte arrives: closed earlier, its write would fail.
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, Buffer.alloc(1), 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        n = -1;
      }
      if (n === 1) break;
      // 0 is EOF: no writer yet (or it died, which its exit file will tell).
      if (n === 0 && !isAlive(held.conmon)) throw new Error(`container ${held.id} exited before it started`);
      if (Date.now() > deadline) throw new Error(`container ${held.id} did not open its exec fifo within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.rmSync(fifo, { force: true });
}

/** The runtime's record of a container (`<root>/<id>`): gone with the container. */
export function removeRuntimeState(paths: MinipodPaths, id: string): void {
  fs.rmSync(path.join(podOciRoot(paths), id), { recursive: true, force: true });
}

/**
 * What is left of an instance whose exit was handled: the runtime's record, and a pooled
 * entry's bundle (the pod's own bundles go with its run dir).
 */
export function removeHeldInstance(paths: MinipodPaths, held: HeldContainer): void {
  removeRuntimeState(paths, held.id);
  if (path.dirname(held.bundle) === heldPoolDir(paths)) removePooledEntry(paths, held.id);
}

/** Resolves with the exit status conmon records (null: unknown); `cancel` stops watching. */
export function heldExit(held: HeldContainer): { exited: Promise<number | null>; cancel: () => void } {
  let cancel = (): void => {};
  const exited = new Promise<number | null>((resolve) => {
    cancel = watchExit(held.exitDir, held.id, held.conmon, resolve);
  });
  return { exited, cancel };
}

/**
 * Calls onLine for each line appended to a CRI log file from now on (an attached `run` streams
 * what conmon writes); returns a function that stops, after a last read.
 */
export function followLogFile(file: string, onLine: (raw: string) => void, pollMs = 100): () => void {
  let offset = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  let pending = '';
  const read = (): void => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size < offset) offset = 0; // conmon started the file again (--log-size-max)
      if (size === offset) return;
      const buf = Buffer.alloc(size - offset);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const text = pending + buf.subarray(0, n).toString('utf8');
      const cut = text.lastIndexOf('\n') + 1;
      pending = text.slice(cut);
      for (const line of text.slice(0, cut).split('\n')) if (line !== '') onLine(line);
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(read, pollMs);
  return () => {
    clearInterval(timer);
    read();
  };
}
