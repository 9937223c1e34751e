/**
 * One interface over the cgroup layouts (runc's Manager, youki's CgroupManager): the pod start
 * path, teardown, `stats`, `inspect` and `gc` talk to this and never to cgroupfs directly.
 *
 * A pod's cgroups are `<parent>/<pod>/{init,<container>...}` below every hierarchy minipod uses:
 * the one cgroup2 tree on unified hosts; on hybrid/legacy hosts the same relative path in each
 * v1 controller hierarchy (and in `unified/` on hybrid, for cgroup.kill and cgroup.events).
 * `child` is a container name or INIT_CGROUP; omitted, it means the pod's own cgroup.
 */
import type { MinipodPaths } from '../paths.js';
import { detectCgroupMode, type CgroupMode, type StatfsType } from './detect.js';
import { nodeCgroupFs, type CgroupFs } from './fs.js';
import type { CgroupVersion, CgroupWrite, PodCgroupPlan } from './plan.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export interface CgroupStats {
  /** Total CPU time, ns. */
  cpuUsageNs: number;
  cpuUserNs?: number;
  cpuSystemNs?: number;
  /** CFS bandwidth: periods seen, periods throttled, time throttled (ns). */
  nrPeriods: number;
  nrThrottled: number;
  throttledNs: number;
  /** memory.current / memory.usage_in_bytes (includes page cache). */
  memoryCurrentBytes: number;
  /** What podman/docker show as usage: current minus inactive file cache. */
  memoryWorkingSetBytes: number;
  /** The effective limit (lowest up to the pod), null when unlimited. */
  memoryLimitBytes: number | null;
  pidsCurrent: number;
  pidsMax: number | null;
}

export interface EffectiveLimits {
  /** Each the tightest of the cgroup and its ancestors up to the pod; null = unlimited. */
  memoryMaxBytes: number | null;
  memoryMinBytes: number;
  swapMaxBytes: number | null;
  /** cpu.max as millicores (quota / period * 1000). */
  cpuLimitMilli: number | null;
  /** The cgroup's own share: cpu.weight on v2, cpu.shares on v1. */
  cpuWeight?: number;
  cpuShares?: number;
  pidsMax: number | null;
}

export interface CgroupManager {
  readonly mode: CgroupMode;
  /** The version the plan must be made for (`planPodCgroups(pod, { version })`). */
  readonly version: CgroupVersion;
  /** Makes every cgroup of the plan and writes its limits; on failure removes what it made. */
  create(plan: PodCgroupPlan): void;
  /**
   * Every cgroup.procs a process must be written into to be in `child`, all hierarchies. The
   * process-setup code opens these before pivot_root and writes its pid (or "0", meaning the
   * writer) into each just before execve.
   */
  procsFiles(pod: string, child: string): string[];
  addProcess(pod: string, child: string, pid: number): void;
  /** OOM kills in the cgroup (v2 memory.events `oom_kill`; v1 memory.oom_control). */
  oomKillCount(pod: string, child: string): number;
  /** Pids in the cgroup and below it, all hierarchies, sorted. */
  pids(pod: string, child?: string): number[];
  /** True while any process is in the cgroup or below (cgroup.events where there is one). */
  populated(pod: string, child?: string): boolean;
  stats(pod: string, child?: string): CgroupStats;
  /**
   * Freezes (runc pause) or thaws (resume) every process in the cgroup and below it: v2
   * cgroup.freeze, v1 the freezer hierarchy's freezer.state. Resolves once the kernel reports
   * the state reached; a freeze that does not complete is undone and throws.
   */
  setFrozen(pod: string, child: string | undefined, frozen: boolean): Promise<void>;
  /** True while the cgroup is frozen (or freezing) by setFrozen. */
  isFrozen(pod: string, child?: string): boolean;
  /**
   * Writes limits into a cgroup that exists (runc update), in the order given; optional writes
   * to files the host lacks are skipped, the rest fail naming the file and value.
   */
  applyWrites(pod: string, child: string | undefined, writes: CgroupWrite[]): void;
  /**
   * SIGKILLs everything in one container's cgroup (its main process, children, exec'd
   * processes) and waits until it is empty: the group kill of an OOM on v1 (src/cgroups/oom.ts).
   */
  killContainer(pod: string, child: string): Promise<void>;
  /** SIGKILLs everything in the pod and waits until it is empty. */
  kill(pod: string): Promise<void>;
  /** kill, then removes the pod's cgroups in every hierarchy; from the filesystem alone. */
  destroy(pod: string): Promise<void>;
  /** Pods that have a cgroup in any hierarchy (for gc after a crash). */
  listPods(): string[];
  /** Directory of the cgroup per hierarchy (`unified`, or the v1 controller name). */
  paths(pod: string, child?: string): Record<string, string>;
  effectiveLimits(pod: string, child?: string): EffectiveLimits;
  /** Removes the top-level parent cgroup if no pod is left in it (gc, tests). */
  removeParentIfEmpty(): void;
}

export interface ManagerOptions {
  /** The cgroupfs mount point, `/sys/fs/cgroup`. */
  root: string;
  /** Name of the top-level cgroup holding every pod, `minipod`. May contain `/`. */
  parent: string;
  fs?: CgroupFs;
  /** Overrides detection (unit tests with a fake cgroupfs). */
  mode?: CgroupMode;
  statfsType?: StatfsType;
  /** How long kill waits for the cgroup to empty, ms. */
  killTimeoutMs?: number;
  /** How long pause waits for every task to stop, ms. */
  freezeTimeoutMs?: number;
}

export function createCgroupManager(opts: ManagerOptions): CgroupManager {
  const mode = opts.mode ?? detectCgroupMode(opts.root, opts.statfsType);
  const full = { ...opts, fs: opts.fs ?? nodeCgroupFs, mode };
  return mode === 'unified' ? new V2Manager(full) : new V1Manager(full);
}

export function cgroupManagerFor(paths: MinipodPaths, extra: Partial<ManagerOptions> = {}): CgroupManager {
  return createCgroupManager({ root: paths.cgroupRoot, parent: paths.cgroupParent, ...extra });
}
