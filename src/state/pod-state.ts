/**
 * The pod's record, `podStateFile` (/run/minipod/pods/<pod>/state.json): what `ps`, `inspect`, `stop`
 * and `gc` read. Written atomically (temp file + rename) so a reader never sees half a file,
 * and complete enough that a pod whose supervisor died can still be found and torn down.
 */
import fs from 'node:fs';
import { UserError } from '../errors.js';
import type { PodOwner, PodSpec } from '../manifest/types.js';
import { type MinipodPaths, podLockFile, podSpecFile, podsRunDir, podStateFile } from '../paths.js';
import { withFileLock, writeFileAtomic } from './lock.js';

/**
 * Kubernetes' phases, plus `Stopping` while a stop is under way and `Stopped` for a pod a user
 * stopped (Kubernetes deletes such a pod; minipod keeps its record until `rm`).
 */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Stopping' | 'Stopped' | 'Unknown';

export function isTerminalPhase(phase: PodPhase): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Stopped';
}
export type ContainerMonitor = 'conmon' | 'daemon';

export type ContainerStateName = 'waiting' | 'running' | 'terminated';

export interface ProcessRef {
  pid: number;
  /** /proc/<pid>/stat field 22: tells a live process from a recycled pid. */
  startTime: number;
}

export interface ContainerState {
  name: string;
  init: boolean;
  /** An init container with restartPolicy Always: runs beside the app containers. */
  sidecar?: boolean;
  image: string;
  /** The resolved image's identity (`sha256:…` or `dir:…`): what `image prune` must keep. */
  imageId?: string;
  state: ContainerStateName;
  pid?: number;
  startTime?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  restartCount: number;
  ready: boolean;
  /** postStart done and startup probe passed (Kubernetes' `started`). */
  started?: boolean;
  startedAt?: string;
  finishedAt?: string;
  cgroupPaths: string[];
  logPath: string;
  /** The conmon that holds the running instance (docs/architecture.md): what a new daemon adopts. */
  held?: HeldContainer;
}

/**
 * A container instance held by its own conmon rather than by the daemon: conmon is its parent
 * (a subreaper), reads its stdout and stderr into the CRI log, and writes its exit status to
 * `<exitDir>/<id>`. Everything a daemon that did not start it needs to find it again.
 */
export interface HeldContainer {
  /** The OCI container id (`<pod>_<container>`) under the runtime's root. */
  id: string;
  conmon: ProcessRef;
  /** The bundle dir (config.json, conmon's pid files). */
  bundle: string;
  exitDir: string;
  /** The cgroup's OOM kill count when the instance started (its exit reason is OOMKilled when it grew). */
  oomBaseline: number;
}

export interface PodState {
  name: string;
  /** metadata.uid: generated for each pod minipod starts. */
  uid?: string;
  phase: PodPhase;
  createdAt: string;
  manifestPath?: string;
  supervisor: ProcessRef;
  init?: ProcessRef;
  /** Namespaces the pod created (for `inspect`): pid/net/ipc/uts inode paths. */
  netnsPath?: string;
  hostname: string;
  network?: unknown;
  cgroupPaths: string[];
  containers: ContainerState[];
  /** Exit status `run` returned or will return. */
  exitCode?: number;
  /** Detached pods keep their record after they end (until `rm`); attached ones leave nothing. */
  keepRecord?: boolean;
  /** The workload object (Deployment, Job, ...) the pod was made from. */
  owner?: PodOwner;
  /** Images mounted as image volumes: kept by `rmi` and `image prune` as the containers' are. */
  volumeImageIds?: string[];
  /**
   * How the pod's containers are held: `conmon` (one per container: they outlive the daemon,
   * which a new daemon adopts) or `daemon` (the daemon is their parent and reads their output;
   * they die with it). Absent in records written before conmon: `daemon`.
   */
  monitor?: ContainerMonitor;
  /** The host ids of a pod with its own user namespace (spec.hostUsers: false): container id N is host id base + N. */
  userNamespace?: { base: number; size: number };
}

export function writePodState(paths: MinipodPaths, state: PodState): void {
  writeFileAtomic(podStateFile(paths, state.name), JSON.stringify(state, null, 2) + '\n', 0o600);
}

/** Serialises commands that change one pod (stop, rm, restart, gc's teardown). */
export function withPodLock<T>(paths: MinipodPaths, pod: string, fn: () => Promise<T>): Promise<T> {
  return withFileLock(podLockFile(paths, pod), fn, 120_000);
}

export function readPodState(paths: MinipodPaths, pod: string): PodState | undefined {
  try {
    return JSON.parse(fs.readFileSync(podStateFile(paths, pod), 'utf8')) as PodState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The spec the pod was started from (pod-record.ts writes it); undefined when there is none (yet) or it cannot be read. */
export function readPodSpec(paths: MinipodPaths, pod: string): PodSpec | undefined {
  try {
    return JSON.parse(fs.readFileSync(podSpecFile(paths, pod), 'utf8')) as PodSpec;
  } catch {
    return undefined;
  }
}

export function requirePodState(paths: MinipodPaths, pod: string): PodState {
  const state = readPodState(paths, pod);
  if (!state) throw new UserError(`pod "${pod}" does not exist`, { code: 'pod.not-found' });
  return state;
}

export function listPodNames(paths: MinipodPaths): string[] {
  try {
    return fs.readdirSync(podsRunDir(paths)).sort();
  } catch {
    return [];
  }
}

/** Whether a process with this pid exists (EPERM: it does, someone else's). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The kernel's start time of a process, or undefined when it does not exist. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export function processRef(pid: number): ProcessRef {
  return { pid, startTime: processStartTime(pid) ?? 0 };
}

/** True when the process recorded in ref still runs (and is not a recycled pid). */
export function isAlive(ref: ProcessRef | undefined): boolean {
  if (!ref) return false;
  const start = processStartTime(ref.pid);
  if (start === undefined || start !== ref.startTime) return false;
  try {
    const status = fs.readFileSync(`/proc/${ref.pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}
