/**
 * The host side of a pod, as the supervisor sees it: everything that reaches outside the
 * supervisor's own bookkeeping (images, ports, CNI, helper processes, signals, exec for probes
 * and hooks, teardown). The supervisor and its container runners receive one PodHost, so their
 * start / stop / restart sequence runs in unit tests against a fake (test/unit/pod) and against
 * the real host in the daemon.
 */
import fs from 'node:fs';
import { resolveImage } from '../images/index.js';
import { unpinImages } from '../images/store/gc.js';
import { storeDirs } from '../paths.js';
import type { ResolvedImage, ResolveImageOptions } from '../images/types.js';
import type { PodSpec } from '../manifest/types.js';
import { spawnInNamespaces, type NamespaceEntry } from '../namespaces/pod-namespaces.js';
import { checkHostPorts, readHostResolvConf, setupPodNetwork } from '../network/index.js';
import type { SetupPodNetworkOptions } from '../network/pod.js';
import type { PodNetworkStatus } from '../network/types.js';
import type { MinipodPaths } from '../paths.js';
import { INIT_BINARIES } from '../plan/pod-init.js';
import type { HelperPlan } from '../plan/types.js';
import { actionRunner, type ActionRunner } from '../probes/index.js';
import { discardHelper, type Helper, helperExit, sendPlan, spawnHelper } from '../process/helper-client.js';
import type { Syscall } from '../syscall/syscall.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { UsernsPod } from '../userns/pod.js';
import type { PodLayout } from '../paths.js';
import { applySysctls, type SysctlWrite } from './sysctls.js';
import { teardownPod, type TeardownOptions } from './teardown.js';
import { conmonBinary } from '../conmon/spawn.js';
import { type HeldContainer, isAlive, type ProcessRef } from '../state/pod-state.js';
import {
  type BundleWriter,
  createHeldContainer,
  followLogFile,
  heldExit,
  type HeldCreateRequest,
  ociRuntimeBinary,
  removeHeldInstance,
  startHeldContainer,
} from './held-container.js';
import { discardPooledHeld, type PooledHeld } from './held-pool.js';

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type PodTeardownOptions = Omit<TeardownOptions, 'paths' | 'sys' | 'cgroups'>;

export interface PodHost {
  /** The first pod init binary (catatonit) installed on the host, if any. */
  findInitBinary(): string | undefined;
  /** Spawns a helper in the given namespaces (synchronously: see spawnInNamespaces). */
  spawnHelper(namespaces: NamespaceEntry, options?: { stdin?: boolean; userNamespace?: string }): Helper;
  /** The pod's own user namespace when it gets one (src/userns/policy.ts); a fake host has none. */
  userNamespace?(spec: PodSpec, layout: PodLayout): Promise<UsernsPod | undefined>;
  /** Sends a plan; resolves once the helper exec'd, rejects with HelperFailed. */
  sendPlan(helper: Helper, plan: HelperPlan): Promise<void>;
  /** Resolves when the helper (or what it became) exited and its output is drained. */
  helperExit(helper: Helper): Promise<HelperExit>;
  /** Kills a helper that never got a plan. */
  discardHelper(helper: Helper): void;
  /** kill(2), ignoring a process that is already gone. */
  signal(pid: number, signal: NodeJS.Signals): void;
  resolveImage(image: string, options: Omit<ResolveImageOptions, 'paths'>): Promise<ResolvedImage>;
  unpinImages(pod: string): Promise<void>;
  checkHostPorts(pod: PodSpec): Promise<void>;
  setupNetwork(options: Omit<SetupPodNetworkOptions, 'paths'>): Promise<PodNetworkStatus>;
  readHostResolvConf(): { text: string; upstream?: string };
  /** Writes the pod's sysctls inside the namespaces of its PID 1 (the pod's init). */
  applySysctls(initPid: number, writes: SysctlWrite[]): void;
  /** Runs probe and hook actions (exec, httpGet, tcpSocket, grpc) against one container. */
  actionRunner(pod: string, container: string): ActionRunner;
  teardown(pod: string, options: PodTeardownOptions): Promise<void>;
  /**
   * Containers held by conmon (`monitor: conmon`, held-container.ts); absent when this host
   * cannot (no conmon, no OCI config writer): the daemon holds them.
   */
  held?: HeldContainerHost;
  /** Whether a recorded process still runs: an adopted pod's init is not the daemon's child. */
  isAlive(ref: ProcessRef): boolean;
}

export interface HeldContainerHost {
  /** conmon runs the runtime's create; resolves with the container's pid, waiting for start. */
  create(request: HeldCreateRequest): Promise<{ held: HeldContainer; pid: number }>;
  /** Lets a created container run (runc's start). */
  start(held: HeldContainer): Promise<void>;
  /** The exit status conmon records (null: unknown); cancel stops watching. */
  exit(held: HeldContainer): { exited: Promise<number | null>; cancel(): void };
  /** Calls onLine with each raw CRI line conmon appends to the log from now; returns a stop. */
  followLog(file: string, onLine: (raw: string) => void): () => void;
  /** Removes the runtime's record of an instance that exited (and a pooled entry's bundle). */
  remove(held: HeldContainer): void;
  /** Drains a pooled conmon the pod did not use (held-pool.ts). */
  discardPooled(entry: PooledHeld): void;
}

/** The real host: what the daemon's supervisors use; `held` given an OCI config writer. */
export function realPodHost(o: { paths: MinipodPaths; sys: Syscall; cgroups: CgroupManager; writeBundle?: BundleWriter }): PodHost {
  const rt = o.writeBundle
    ? { paths: o.paths, writeBundle: o.writeBundle, runtime: ociRuntimeBinary(), conmon: conmonBinary() }
    : undefined;
  return {
    held: rt && {
      create: (request) => createHeldContainer(rt, request),
      start: (held) => startHeldContainer(rt, held),
      exit: heldExit,
      followLog: (file, onLine) => followLogFile(file, onLine),
      remove: (held) => removeHeldInstance(o.paths, held),
      discardPooled: (entry) => void discardPooledHeld(o.paths, entry),
    },
    isAlive,
    findInitBinary: () => INIT_BINARIES.find((b) => fs.existsSync(b)),
    spawnHelper: (namespaces, options = {}) =>
      spawnInNamespaces(o.sys, namespaces, () => spawnHelper({ stdin: options.stdin, userNamespace: options.userNamespace })),
    userNamespace: (spec, layout) => UsernsPod.create(spec, { paths: o.paths, sys: o.sys }, layout),
    sendPlan,
    helperExit: (helper) => helperExit(helper),
    discardHelper,
    signal: (pid, signal) => {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    },
    resolveImage: (image, options) => resolveImage(image, { ...options, paths: o.paths }),
    unpinImages: (pod) => unpinImages(storeDirs(o.paths), pod),
    checkHostPorts: (pod) => checkHostPorts(pod, o.paths, pod.name),
    setupNetwork: (options) => setupPodNetwork({ ...options, paths: o.paths }),
    readHostResolvConf,
    applySysctls: (initPid, writes) => applySysctls(o.sys, initPid, writes),
    actionRunner: (pod, container) => actionRunner({ paths: o.paths, sys: o.sys, pod, container }),
    teardown: (pod, options) => teardownPod(pod, { ...options, paths: o.paths, sys: o.sys, cgroups: o.cgroups }),
  };
}
