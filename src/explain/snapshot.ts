/**
 * The snapshot `minipod explain` takes of a pod: what the kernel reports about its processes,
 * namespaces, cgroups, mounts and network at one moment, plus the differences from minipod's own
 * record. The reader (read-pod.ts) fills it at the edge; the renderers (text, SVG, dot) are pure
 * functions of it; `--format json` prints it as is. docs/explain.md documents every field: keep
 * the two in step, and bump SNAPSHOT_SCHEMA when a field changes meaning or goes away (adding a
 * field does not).
 *
 * Conventions: a number that may be "unlimited" is null when unlimited; a field the kernel does
 * not offer here (a controller not mounted, a file missing) is absent.
 */

export const SNAPSHOT_SCHEMA = 'minipod.io/explain/v1';

/** The namespace types /proc/PID/ns shows, in the order explain lists them. */
export const NAMESPACE_TYPES = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup', 'user', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** Inode of each namespace (`/proc/PID/ns/<type>` links to `<type>:[<inode>]`). */
export type NamespaceInodes = Partial<Record<NamespaceType, number>>;

export interface IdMapEntry {
  /** First id inside the namespace, first id outside (in the parent user namespace), count. */
  inside: number;
  outside: number;
  count: number;
}

export interface Capabilities {
  /** The 64-bit masks as /proc/PID/status prints them (hex). */
  effectiveHex: string;
  boundingHex: string;
  permittedHex: string;
  ambientHex: string;
  /** Decoded names (`CAP_NET_BIND_SERVICE`); a bit without a known name is `CAP_<n>`. */
  effective: string[];
  bounding: string[];
}

export interface ProcessFacts {
  /** Host pid. */
  pid: number;
  ppid: number;
  /** NSpid: the pid in every PID namespace from the host's down to the process's own. */
  nspid: number[];
  comm: string;
  /** argv (empty for kernel threads and zombies). */
  cmdline: string[];
  /** /proc/PID/stat state letter: R, S, D, Z, T, ... */
  state: string;
  /** Field 22 of /proc/PID/stat, clock ticks since boot: tells a process from a recycled pid. */
  startTime: number;
  /** Real, effective, saved, filesystem (host ids as seen from explain's user namespace). */
  uid: number[];
  gid: number[];
  namespaces: NamespaceInodes;
  capabilities?: Capabilities;
  /** Seccomp mode (Seccomp: 0, 1, 2) and the number of filters attached. */
  seccomp: 'disabled' | 'strict' | 'filter';
  seccompFilters?: number;
  noNewPrivs: boolean;
  uidMap: IdMapEntry[];
  gidMap: IdMapEntry[];
  /** /proc/PID/cgroup: one line per hierarchy. */
  cgroups: ProcessCgroup[];
}

export interface ProcessCgroup {
  /** The hierarchy id (0 is cgroup2's unified hierarchy). */
  hierarchyId: number;
  /** v1 controllers of the hierarchy (`memory`, `name=systemd`); empty for cgroup2. */
  controllers: string[];
  /** Path from the hierarchy's root. */
  path: string;
}

export interface ProcessNode extends ProcessFacts {
  children: ProcessNode[];
}

export interface CgroupHierarchy {
  id: number;
  version: 1 | 2;
  controllers: string[];
  /** Where the hierarchy is mounted on the host; absent when it is not mounted. */
  mountPoint?: string;
}

export interface CgroupLimits {
  memoryMaxBytes?: number | null;
  swapMaxBytes?: number | null;
  cpuQuotaUs?: number | null;
  cpuPeriodUs?: number;
  /** v2 cpu.weight / v1 cpu.shares. */
  cpuWeight?: number;
  cpuShares?: number;
  pidsMax?: number | null;
}

export interface CgroupUsage {
  memoryCurrentBytes?: number;
  /** High-water mark: memory.peak (v2, 5.19+) / memory.max_usage_in_bytes (v1). */
  memoryPeakBytes?: number;
  pidsCurrent?: number;
  cpuUsageNs?: number;
  nrPeriods?: number;
  nrThrottled?: number;
  throttledNs?: number;
  /** Processes the kernel's OOM killer killed in this cgroup (memory.events oom_kill / memory.oom_control). */
  oomKills?: number;
}

export interface CgroupFacts {
  /** The cgroup's path relative to the hierarchy roots (`/minipod/blog/web`). */
  path: string;
  /** Its directory in each hierarchy where it exists, by hierarchy (`memory`, `unified`). */
  dirs: Record<string, string>;
  limits: CgroupLimits;
  usage: CgroupUsage;
  /** The file each limit and usage value was read from, by value name. */
  sources: Record<string, string>;
}

export interface CgroupTreeNode extends CgroupFacts {
  /** The last path element (`blog`, `web`, `init`). */
  name: string;
  children: CgroupTreeNode[];
}

export interface Mount {
  mountPoint: string;
  fsType: string;
  /** The mount source (`overlay`, `/dev/vda`, `proc`). */
  source: string;
  /** For a bind mount, the directory or file of the source filesystem it shows; `/` otherwise. */
  root: string;
  readOnly: boolean;
  /** The per-mount and the filesystem's options. */
  options: string;
  superOptions: string;
  /** What explain makes of it: the root filesystem, a volume or file minipod bound, a kernel filesystem or a masked path. */
  role: 'rootfs' | 'bind' | 'system' | 'masked';
}

export interface RootFilesystem {
  fsType: string;
  readOnly: boolean;
  /** overlayfs' lower (the image, read-only), upper (the container's writes) and work dirs. */
  lowerDirs?: string[];
  upperDir?: string;
  workDir?: string;
}

export type MemberKind = 'init' | 'initContainer' | 'container';

/** What minipod's state file says about a member (to compare, not to trust). */
export interface RecordedMember {
  state: string;
  pid?: number;
  startTime?: number;
  restartCount?: number;
  exitCode?: number;
  reason?: string;
}

/** The pod's init or one container: its main process as the kernel sees it, or null if none. */
export interface Member {
  name: string;
  kind: MemberKind;
  recorded: RecordedMember;
  /** The main process and every process below it (host parent links). */
  process: ProcessNode | null;
  /** The cgroup the main process is in (or the member's cgroup when no process runs). */
  cgroup?: CgroupFacts;
  rootfs?: RootFilesystem;
  mounts: Mount[];
}

export interface NamespaceGroup {
  type: NamespaceType;
  inode: number;
  /** Names of the members in it, in member order. */
  members: string[];
  /** `host`: the host's own (PID 1's): not isolated; `pod`: every running member; `shared`: some; `private`: one. */
  scope: 'host' | 'pod' | 'shared' | 'private';
}

export interface NetworkInterface {
  name: string;
  ifindex: number;
  mac?: string;
  /** CIDR strings (`10.89.0.2/24`). */
  addresses: string[];
  /** For a veth: its peer in the host's network namespace. */
  peer?: { name: string; ifindex: number; master?: string; addresses: string[] };
}

export interface PortFacts {
  container: string;
  containerPort: number;
  hostPort: number;
  hostIP: string;
  protocol: string;
  /** Whether iptables' nat table has a DNAT of hostPort to the pod's IP:containerPort (bridge mode). */
  dnat: boolean;
  /** TCP: whether a socket listens on containerPort in the pod's network namespace. */
  listening?: boolean;
}

export interface NetworkFacts {
  /** What minipod recorded: bridge, host or none. */
  mode: string;
  /** The network namespace of the pod's init, and whether it is the host's. */
  netns?: number;
  hostNetns: boolean;
  interfaces: NetworkInterface[];
  /** The pod's IPv4 address as the kernel has it on the pod's interface. */
  ip?: string;
  ports: PortFacts[];
  /** Why the interfaces could not be read (no `ip`, namespace gone), when they could not. */
  error?: string;
}

/** A place where minipod's record and the kernel disagree. */
export interface Difference {
  /** The member's name, or `pod`. */
  subject: string;
  /** What differs: `process`, `pid`, `memory limit`, `cpu quota`, `pids limit`, `cgroup`, `ip`, `port`, `namespace`. */
  what: string;
  recorded: string;
  kernel: string;
}

export interface ExplainSnapshot {
  schema: typeof SNAPSHOT_SCHEMA;
  /** ISO time the snapshot was taken. */
  takenAt: string;
  pod: { name: string; phase: string; hostname?: string };
  /** The namespaces of the host's PID 1, to tell isolated from not isolated. */
  hostNamespaces: NamespaceInodes;
  hierarchies: CgroupHierarchy[];
  /** The init first, then init containers and containers in manifest order. */
  members: Member[];
  namespaces: NamespaceGroup[];
  /** The pod's cgroup and the cgroups below it, read from the kernel (absent when gone). */
  cgroupTree?: CgroupTreeNode;
  network: NetworkFacts;
  differences: Difference[];
}
