/**
 * The pure cgroup planner: PodSpec -> which cgroups a pod gets and what is written into each.
 *
 * Two steps, so v1 and v2 differ only in the last one:
 *   1. Kubernetes semantics -> logical limits per cgroup (`CgroupLimits`), version independent.
 *   2. logical limits -> file writes for one cgroup version (`v2Writes` / `v1Writes`).
 * Nothing here touches the filesystem; the managers execute the writes in order.
 * See docs/cgroups.md for the field -> file table and the choices made.
 */
import { UserError } from '../errors.js';
import type { ContainerSpec, PodSpec, ResourceList } from '../manifest/types.js';

export type CgroupVersion = 'v1' | 'v2';
/** The controller (v1 hierarchy) a file belongs to; on v2 it decides what to enable. */
export type Controller = 'cpu' | 'memory' | 'pids';

export interface CgroupWrite {
  controller: Controller;
  file: string;
  value: string;
  /** Skipped when the file does not exist (swap accounting off, kernel without CONFIG_SWAP). */
  optional?: boolean;
}

/** Version-independent limits of one cgroup; absent means "leave the kernel default". */
export interface CgroupLimits {
  memoryMaxBytes?: number;
  /** Protected memory (Kubernetes MemoryQoS: requests.memory -> memory.min). */
  memoryMinBytes?: number;
  /** Swap allowed up to the memory limit (`minipod.io/swap: "true"`), else none. */
  swapAllowed: boolean;
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  /** v1 cpu.shares scale (2..262144); v2 converts to cpu.weight. */
  cpuShares?: number;
  pidsMax?: number;
}

export type CgroupKind = 'pod' | 'init' | 'container' | 'initContainer';

export interface PlannedCgroup {
  kind: CgroupKind;
  /** Path below the pod's cgroup: '' for the pod itself, `init`, or the container's name. */
  child: string;
  limits: CgroupLimits;
  writes: CgroupWrite[];
}

export interface PodCgroupPlan {
  pod: string;
  version: CgroupVersion;
  /** The pod first, then init, init containers and containers: the order of mkdir. */
  cgroups: PlannedCgroup[];
}

export interface PlanOptions {
  version: CgroupVersion;
  /** pids.max of a pod without `minipod.io/pids-max`; podman's default. */
  defaultPidsMax?: number;
}

/** The child cgroup of the pod's PID 1 (the reaper), beside the containers. */
export const INIT_CGROUP = 'init';
export const DEFAULT_PIDS_MAX = 2048;
/** CFS period, the Kubernetes and runc default. */
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses a cfs quota below 1 ms; Kubernetes raises smaller limits to it. */
export const MIN_CPU_QUOTA_US = 1_000;
/** Below this a container cannot even start its runtime helper; docker and podman use 6 MB too. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
export const MIN_SHARES = 2;
export const MAX_SHARES = 262_144;
export const MAX_WEIGHT = 10_000;

/** Kubernetes' MilliCPUToShares: 1 CPU = 1024 shares, at least 2. */
export function milliToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  const shares = Math.floor((milli * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/**
 * cpu.shares -> cpu.weight as runc >= 1.3.2 and crun >= 1.23 convert it today: a quadratic in
 * log2(shares) through (2, 1), (1024, 100), (262144, 10000), so the v1 default maps to the v2
 * default. The older linear `1 + (shares - 2) * 9999 / 262142` (sharesToWeightLinear) gave a
 * 1-CPU request weight 39, starving it next to default-weight cgroups.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= MIN_SHARES) return 1;
  if (shares >= MAX_SHARES) return MAX_WEIGHT;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.min(MAX_WEIGHT, Math.max(1, Math.ceil(10 ** exponent)));
}

/** The pre-2025 runc/crun formula, kept for comparison and for reading old cgroups. */
export function sharesToWeightLinear(shares: number): number {
  if (shares <= MIN_SHARES) return 1;
  if (shares >= MAX_SHARES) return MAX_WEIGHT;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

export function milliToQuotaUs(milli: number, periodUs = CPU_PERIOD_US): number {
  return Math.max(MIN_CPU_QUOTA_US, Math.floor((milli * periodUs) / 1000));
}

type Key = 'cpuMilli' | 'memoryBytes';

/** Kubernetes API defaulting: a request left out but with a limit defaults to the limit. */
function request(c: ContainerSpec, key: Key): number | undefined {
  return c.resources.requests[key] ?? c.resources.limits[key];
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/**
 * Kubernetes' pod total: init containers run one at a time before the app containers, so the
 * pod needs max(sum(app containers), max(init containers)).
 */
function aggregate(app: number[], init: number[]): number {
  return Math.max(sum(app), ...init, 0);
}

/** The pod's limit for a resource: pod.resources, else the aggregate when every container has one. */
function podLimit(pod: PodSpec, key: Key): number | undefined {
  const explicit = pod.resources?.limits[key];
  if (explicit !== undefined) return explicit;
  const all = [...pod.containers, ...pod.initContainers];
  if (all.length === 0 || all.some((c) => c.resources.limits[key] === undefined)) return undefined;
  return aggregate(
    pod.containers.map((c) => c.resources.limits[key]!),
    pod.initContainers.map((c) => c.resources.limits[key]!),
  );
}

function podRequest(pod: PodSpec, key: Key): number | undefined {
  const explicit = pod.resources?.requests[key] ?? pod.resources?.limits[key];
  if (explicit !== undefined) return explicit;
  const app = pod.containers.map((c) => request(c, key)).filter((v): v is number => v !== undefined);
  const init = pod.initContainers.map((c) => request(c, key)).filter((v): v is number => v !== undefined);
  if (app.length === 0 && init.length === 0) return undefined;
  return aggregate(app, init);
}

/** Kernel-level checks the manifest validator cannot know about; fail before anything starts. */
function checkList(list: ResourceList, field: string): void {
  if (list.memoryBytes !== undefined && list.memoryBytes < MIN_MEMORY_LIMIT_BYTES) {
    throw new UserError(`${field}.memory: ${list.memoryBytes} bytes is below the minimum memory limit of 6Mi`, {
      code: 'manifest.invalid',
    });
  }
  if (list.cpuMilli !== undefined && list.cpuMilli <= 0) {
    throw new UserError(`${field}.cpu: a cpu limit of 0 cannot be enforced (cpu.max needs a quota of at least 1ms)`, {
      code: 'manifest.invalid',
    });
  }
}

function limitsFrom(
  memMax: number | undefined,
  memMin: number | undefined,
  cpuLimit: number | undefined,
  cpuRequest: number | undefined,
  swapAllowed: boolean,
): CgroupLimits {
  const l: CgroupLimits = { swapAllowed };
  if (memMax !== undefined) l.memoryMaxBytes = memMax;
  if (memMin !== undefined && memMin > 0) l.memoryMinBytes = memMin;
  if (cpuLimit !== undefined) {
    l.cpuPeriodUs = CPU_PERIOD_US;
    l.cpuQuotaUs = milliToQuotaUs(cpuLimit);
  }
  if (cpuRequest !== undefined) l.cpuShares = milliToShares(cpuRequest);
  return l;
}

/** Logical limits -> cgroup v2 files. */
export function v2Writes(l: CgroupLimits, kind: CgroupKind): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memoryMinBytes !== undefined) w.push({ controller: 'memory', file: 'memory.min', value: String(l.memoryMinBytes) });
  if (l.memoryMaxBytes !== undefined) w.push({ controller: 'memory', file: 'memory.max', value: String(l.memoryMaxBytes) });
  // v2 counts swap separately from memory: 0 is "no swap"; allowed means as much again as the limit.
  if (!l.swapAllowed && (kind === 'pod' || l.memoryMaxBytes !== undefined)) {
    w.push({ controller: 'memory', file: 'memory.swap.max', value: '0', optional: true });
  } else if (l.swapAllowed && l.memoryMaxBytes !== undefined) {
    w.push({ controller: 'memory', file: 'memory.swap.max', value: String(l.memoryMaxBytes), optional: true });
  }
  if (l.cpuShares !== undefined) w.push({ controller: 'cpu', file: 'cpu.weight', value: String(sharesToWeight(l.cpuShares)) });
  if (l.cpuQuotaUs !== undefined) {
    w.push({ controller: 'cpu', file: 'cpu.max', value: `${l.cpuQuotaUs} ${l.cpuPeriodUs ?? CPU_PERIOD_US}` });
  }
  if (l.pidsMax !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: String(l.pidsMax) });
  // Kubernetes 1.28+: an OOM kill takes the whole container, not one process of it (oom.ts).
  if (kind === 'container' || kind === 'initContainer')
    w.push({ controller: 'memory', file: 'memory.oom.group', value: '1', optional: true });
  return w;
}

/** Logical limits -> cgroup v1 files, in the order the kernel accepts them. */
export function v1Writes(l: CgroupLimits): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memoryMaxBytes !== undefined) {
    // memsw (memory + swap) must stay >= memory.limit_in_bytes, so it comes second.
    w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(l.memoryMaxBytes) });
    const memsw = l.swapAllowed ? 2 * l.memoryMaxBytes : l.memoryMaxBytes;
    w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(memsw), optional: true });
  }
  // v1 has no hard protection; the soft limit (runc's "reservation") is what reclaim spares longest.
  if (l.memoryMinBytes !== undefined) {
    w.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(l.memoryMinBytes) });
  }
  if (l.cpuShares !== undefined) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(l.cpuShares) });
  if (l.cpuQuotaUs !== undefined) {
    // The period first: the kernel checks quota against the current period.
    w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(l.cpuPeriodUs ?? CPU_PERIOD_US) });
    w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(l.cpuQuotaUs) });
  }
  if (l.pidsMax !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: String(l.pidsMax) });
  return w;
}

export function writesFor(version: CgroupVersion, limits: CgroupLimits, kind: CgroupKind): CgroupWrite[] {
  return version === 'v2' ? v2Writes(limits, kind) : v1Writes(limits);
}

export function planPodCgroups(pod: PodSpec, opts: PlanOptions): PodCgroupPlan {
  const swap = pod.minipod.swap;
  const cgroups: PlannedCgroup[] = [];
  const add = (kind: CgroupKind, child: string, limits: CgroupLimits): void => {
    cgroups.push({ kind, child, limits, writes: writesFor(opts.version, limits, kind) });
  };

  if (pod.resources) checkList(pod.resources.limits, 'spec.resources.limits');
  const podLimits = limitsFrom(
    podLimit(pod, 'memoryBytes'),
    podRequest(pod, 'memoryBytes'),
    podLimit(pod, 'cpuMilli'),
    podRequest(pod, 'cpuMilli'),
    swap,
  );
  const pidsMax = pod.minipod.pidsMax ?? opts.defaultPidsMax ?? DEFAULT_PIDS_MAX;
  if (!Number.isInteger(pidsMax) || pidsMax < 1) {
    throw new UserError(`metadata.annotations["minipod.io/pids-max"]: ${pidsMax} must be a positive integer`, {
      code: 'manifest.invalid',
    });
  }
  podLimits.pidsMax = pidsMax;
  add('pod', '', podLimits);
  add('init', INIT_CGROUP, { swapAllowed: swap });

  const each = (list: ContainerSpec[], kind: CgroupKind, field: string): void => {
    list.forEach((c, i) => {
      if (c.name === INIT_CGROUP) {
        throw new UserError(`${field}[${i}].name: "${INIT_CGROUP}" is reserved by minipod for the cgroup of the pod's init process`, {
          code: 'manifest.invalid',
        });
      }
      checkList(c.resources.limits, `${field}[${i}].resources.limits`);
      add(
        kind,
        c.name,
        limitsFrom(
          c.resources.limits.memoryBytes,
          request(c, 'memoryBytes'),
          c.resources.limits.cpuMilli,
          // Without a request (and limit) the kernel default weight stays, as podman does; see docs.
          c.resources.requests.cpuMilli ?? c.resources.limits.cpuMilli,
          swap,
        ),
      );
    });
  };
  each(pod.initContainers, 'initContainer', 'spec.initContainers');
  each(pod.containers, 'container', 'spec.containers');
  return { pod: pod.name, version: opts.version, cgroups };
}
