/**
 * conmons started ahead of need (docs/architecture.md, "Containers that outlive the daemon",
 * the conmon pool). A warm sandbox in conmon mode gets a few entries: each a conmon already
 * running `minipod-oci create` on a stub bundle (src/oci/config/pooled.ts), whose helper is
 * booted in the sandbox's namespaces and waits for the container's config.json. A container
 * of the pod that claims the sandbox takes an entry: its log file is renamed into place, its
 * config written over the stub, and conmon's sync line read as for a fresh conmon. What a
 * fresh conmon costs on the start path (conmon, a Node create, a Node helper: ~270 ms here)
 * is then paid while idle.
 *
 * An entry is never left behind: a drain writes the abort marker (create fails, conmon reports
 * and exits) and removes its files; an entry whose daemon died exits by itself (create polls
 * the daemon) and gc removes its files (gcHeldPool); a claimed entry goes with its pod's
 * teardown (the `pod` file names the pod).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConmonRequest } from '../conmon/args.js';
import { type PendingConmon, spawnConmon } from '../conmon/spawn.js';
import type { NamespaceEntry } from '../namespaces/pod-namespaces.js';
import { OCI_SPEC_VERSION } from '../oci/cli/version.js';
import type { NamespaceRequest } from '../oci/config/linux.js';
import { parsePooledStub, POOLED_FILES, pooledStubConfig } from '../oci/config/pooled.js';
import { attachSocketDir, heldPoolDir, heldPoolLogDir, type MinipodPaths, podOciRoot, podRunDir } from '../paths.js';
import { isAlive, type ProcessRef, processRef } from '../state/pod-state.js';
import type { HeldRuntime } from './held-container.js';
import { toOurPriority } from '../process/priority.js';

type ConmonStart = Omit<ConmonRequest, 'syncFd'>;

/** The file in an entry's bundle naming the pod that claimed it. */
const CLAIMED_BY = 'pod';

export interface PooledHeld {
  id: string;
  bundle: string;
  exitDir: string;
  /** conmon's log file until the claim renames it. */
  poolLog: string;
  /** The sandbox init whose namespaces the entry's helper was spawned into. */
  initPid: number;
  conmon: PendingConmon;
  /** Set once conmon spoke before any claim: the entry failed and is useless. */
  failed: boolean;
}

/** The namespaces an entry's helper joins: all four of the sandbox init's. */
export function pooledNamespaces(initPid: number): NamespaceRequest[] {
  return [
    { type: 'pid', path: `/proc/${initPid}/ns/pid` },
    { type: 'network', path: `/proc/${initPid}/ns/net` },
    { type: 'ipc', path: `/proc/${initPid}/ns/ipc` },
    { type: 'uts', path: `/proc/${initPid}/ns/uts` },
  ];
}

/** Whether a container that asks for these namespaces (and stdin) can take the entry. Pure. */
export function pooledFits(entry: { initPid: number }, namespaces: NamespaceEntry, stdin: boolean): boolean {
  if (stdin || namespaces.create.length > 0 || namespaces.join?.pid !== entry.initPid) return false;
  return (
    ['pid', 'ipc', 'net', 'uts'].every((n) => namespaces.join!.namespaces.includes(n as never)) && namespaces.join.namespaces.length === 4
  );
}

/** A fresh pool id: short (conmon names its attach link after it), not a `<pod>_<c>` one. */
export function poolId(): string {
  return `mp-${crypto.randomBytes(6).toString('hex')}`;
}

type PoolRuntime = Pick<HeldRuntime, 'paths' | 'runtime' | 'conmon'>;

/** Where an entry's files go and the conmon that serves it. Pure: the tests compare it whole. */
export function pooledEntryPlan(rt: PoolRuntime, id: string): { bundle: string; exitDir: string; poolLog: string; request: ConmonStart } {
  const bundle = path.join(heldPoolDir(rt.paths), id);
  const exitDir = path.join(bundle, 'exits');
  const poolLog = path.join(heldPoolLogDir(rt.paths), `${id}.log`);
  const request: ConmonStart = {
    conmon: rt.conmon,
    runtime: rt.runtime,
    runtimeArgs: ['--root', podOciRoot(rt.paths)],
    id,
    // The id is short enough for the attach link's name; the container's name is not known yet.
    cuuid: id,
    name: id,
    bundle,
    exitDir,
    logPath: poolLog,
    socketDir: attachSocketDir(rt.paths),
    // Booted while idle, at nice 19 (conmon and create; create's helper too): a refill right
    // after a claim must not take the CPUs from the pod that claimed.
    background: true,
  };
  return { bundle, exitDir, poolLog, request };
}

/** Starts one entry for a sandbox whose init is initPid; the caller watches `conmon.settled`. */
export function spawnPooledHeld(rt: PoolRuntime, initPid: number): PooledHeld {
  const id = poolId();
  const { bundle, exitDir, poolLog, request } = pooledEntryPlan(rt, id);
  fs.mkdirSync(exitDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(heldPoolLogDir(rt.paths), { recursive: true, mode: 0o700 });
  fs.mkdirSync(attachSocketDir(rt.paths), { recursive: true, mode: 0o700 });
  // The priority create and the container return to once claimed: ours.
  const stub = pooledStubConfig(
    { namespaces: pooledNamespaces(initPid), owner: processRef(process.pid), priority: os.getPriority() },
    OCI_SPEC_VERSION,
  );
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(stub), { mode: 0o600 });
  let conmon: PendingConmon;
  try {
    conmon = spawnConmon(request);
  } catch (err) {
    removePooledEntry(rt.paths, id);
    throw err;
  }
  const entry: PooledHeld = { id, bundle, exitDir, poolLog, initPid, conmon, failed: false };
  void conmon.settled.then(() => (entry.failed = true));
  return entry;
}

/** Resolves true once the entry's create booted its helper and waits (false: it failed first). */
export async function pooledReady(entry: PooledHeld, timeoutMs = 60_000): Promise<boolean> {
  const file = path.join(entry.bundle, POOLED_FILES.ready);
  const deadline = Date.now() + timeoutMs;
  while (!entry.failed && Date.now() < deadline) {
    if (fs.existsSync(file)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * conmon, its create and create's helper booted at nice 19 (pooledEntryPlan): a pod that takes
 * the entry, or waits for it to finish booting, gives them our priority. conmon relays the
 * container's output and exit from then on; create and the helper are on the pod's start path.
 */
export function prioritizePooledHeld(entry: PooledHeld): void {
  const conmon = readConmonRef(entry.bundle);
  if (conmon) toOurPriority(conmon.pid, true);
}

/**
 * Gives the entry to a container: the log renamed into place (conmon keeps writing its fd), the
 * pod named, then the config written over the stub (create wakes up on it). Throws before the
 * config is written when the entry cannot serve (the caller aborts it and starts a fresh conmon).
 */
export function claimPooledHeld(entry: PooledHeld, pod: string, logPath: string, writeConfig: (bundle: string) => void): void {
  if (entry.failed) throw new Error('the pooled conmon failed before its claim');
  prioritizePooledHeld(entry);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  fs.renameSync(entry.poolLog, logPath);
  fs.writeFileSync(path.join(entry.bundle, CLAIMED_BY), pod);
  writeConfig(entry.bundle);
}

/** Removes an entry's files: bundle, pool log, the runtime's state, conmon's attach link. */
export function removePooledEntry(paths: MinipodPaths, id: string): void {
  for (const p of [
    path.join(heldPoolDir(paths), id),
    path.join(heldPoolLogDir(paths), `${id}.log`),
    path.join(podOciRoot(paths), id),
    path.join(attachSocketDir(paths), id),
  ]) {
    fs.rmSync(p, { recursive: true, force: true });
  }
}

function readConmonRef(bundle: string): ProcessRef | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(bundle, 'conmon.pid'), 'utf8').trim());
    return pid > 0 ? processRef(pid) : undefined;
  } catch {
    return undefined;
  }
}

async function waitGone(ref: ProcessRef | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (ref && isAlive(ref)) {
    if (Date.now() > deadline) {
      try {
        process.kill(ref.pid, 'SIGKILL');
      } catch {
        // Gone in between.
      }
      timeoutMs = 0;
      await new Promise((r) => setTimeout(r, 50));
      if (Date.now() > deadline + 1000) return;
      continue;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Drains an unclaimed entry: the abort marker makes its create fail, conmon reports that on the
 * sync pipe and exits; then its files go. Resolves once nothing of it is left.
 */
export async function discardPooledHeld(paths: MinipodPaths, entry: PooledHeld): Promise<void> {
  try {
    fs.writeFileSync(path.join(entry.bundle, POOLED_FILES.abort), '');
  } catch {
    // The bundle is gone: create notices that too.
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([entry.conmon.settled, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
  clearTimeout(timer);
  entry.conmon.close();
  await waitGone(readConmonRef(entry.bundle), 5000);
  removePooledEntry(paths, entry.id);
}

/** Removes the pool entries the pod claimed (its teardown, once its processes are gone). */
export function removePodPooledEntries(paths: MinipodPaths, pod: string): void {
  for (const id of listDir(heldPoolDir(paths))) {
    if (readClaim(paths, id) === pod) removePooledEntry(paths, id);
  }
}

function readClaim(paths: MinipodPaths, id: string): string | undefined {
  try {
    return fs.readFileSync(path.join(heldPoolDir(paths), id, CLAIMED_BY), 'utf8');
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * gc's part: entries whose daemon is gone (their create exits by itself within a second, conmon
 * with it; killed if not), claimed entries of pods that have no record any more, and pool log
 * files without an entry. Entries of a live daemon are left alone. Returns the ids removed.
 */
export async function gcHeldPool(paths: MinipodPaths, graceMs = 5000): Promise<string[]> {
  const removed: string[] = [];
  const orphans: string[] = [];
  for (const id of listDir(heldPoolDir(paths))) {
    const bundle = path.join(heldPoolDir(paths), id);
    const pod = readClaim(paths, id);
    if (pod !== undefined) {
      if (!fs.existsSync(podRunDir(paths, pod)) && !isAlive(readConmonRef(bundle))) orphans.push(id);
      continue;
    }
    let owner: ProcessRef | undefined;
    try {
      owner = parsePooledStub(JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')))?.owner;
    } catch {
      owner = undefined;
    }
    if (owner && isAlive(owner)) continue;
    // No readable stub: one being written right now, or a leftover; only an old one goes.
    if (!owner && Date.now() - (fs.statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 60_000) continue;
    orphans.push(id);
  }
  await Promise.all(
    orphans.map(async (id) => {
      await waitGone(readConmonRef(path.join(heldPoolDir(paths), id)), graceMs);
      removePooledEntry(paths, id);
      removed.push(id);
    }),
  );
  for (const file of listDir(heldPoolLogDir(paths))) {
    const id = file.replace(/\.log$/, '');
    if (!fs.existsSync(path.join(heldPoolDir(paths), id))) fs.rmSync(path.join(heldPoolLogDir(paths), file), { force: true });
  }
  return removed;
}
