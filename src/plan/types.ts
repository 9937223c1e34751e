/**
 * Plans as data: what a helper process must do to become a container (or the pod's init).
 * The supervisor builds a plan with pure functions (src/plan/*.ts), sends it as one JSON line
 * over the helper's control socket, and the helper executes it (src/rootfs, src/process).
 * Keeping it data means the decisions are unit-tested without root and the helper stays dumb.
 */
import type { MountFlagName } from '../../native-bindings/constants.js';

export interface MountStep {
  /** Host path for binds; the fs source name otherwise (`proc`, `tmpfs`, ...). */
  source: string;
  /** Absolute path inside the container. */
  destination: string;
  /** `bind`, or a filesystem type for mount(2) (OCI configs may name any: `cgroup`, `devtmpfs`...). */
  fstype: 'bind' | 'proc' | 'sysfs' | 'tmpfs' | 'devpts' | 'mqueue' | 'cgroup' | 'cgroup2' | (string & {});
  flags: MountFlagName[];
  /** A bind of only the source mount, not the mounts below it (OCI `bind`; `rbind` and the pod's binds recurse). */
  nonRecursive?: boolean;
  /** Propagation set on the mount once made (OCI options `rprivate`, `shared`, ...): MS_REC may be among them. */
  propagation?: MountFlagName[];
  data?: string;
  /** What to create at the destination when missing: binds of files need a file. */
  destinationKind: 'dir' | 'file';
  /** Binds ignore MS_RDONLY on the first call: remount afterwards. */
  readOnly: boolean;
  /**
   * A volume whose files belong to host ids (hostPath, claims, image and file volumes): in a
   * pod with its own user namespace it is bound through an idmapped mount (src/userns/volumes.ts),
   * so host root's files are root's inside, as Kubernetes mounts volumes for such pods.
   */
  idmap?: boolean;
}

export interface DeviceNode {
  /** Path inside the container, e.g. `/dev/null`. */
  path: string;
  major: number;
  minor: number;
  mode: number;
  /** Owner of the node (OCI `devices[].uid/gid`); root when absent. */
  uid?: number;
  gid?: number;
}

export interface ProcessSpec {
  /** argv; argv[0] is looked up in the container's PATH when it has no slash. */
  args: string[];
  env: string[];
  cwd: string;
  /** Numeric ids, or a user name from the image config resolved in the container's /etc/passwd. */
  user: {
    uid?: number;
    gid?: number;
    name?: string;
    /** The pod's supplementalGroups and fsGroup: extra groups of every container process. */
    groups?: number[];
    /** supplementalGroupsPolicy Strict: not the groups the image's /etc/group gives the user. */
    strictGroups?: boolean;
  };
  capabilities: {
    bounding: number[];
    effective: number[];
    permitted: number[];
    inheritable: number[];
    ambient: number[];
  };
  noNewPrivileges: boolean;
  /** AppArmor profile / SELinux context for the program, written to /proc/self/attr before execve. */
  lsmLabels?: LsmLabel[];
  /** Refuse to start when the user resolves to uid 0 (securityContext.runAsNonRoot). */
  runAsNonRoot?: boolean;
  /** The seccomp filter loaded just before execve; none when unset (Unconfined, privileged). */
  seccomp?: SeccompFilter;
  /** setrlimit(2) before execve (OCI `process.rlimits`): `RLIMIT_NOFILE`... */
  rlimits?: { type: string; soft: number; hard: number }[];
  /** Written to /proc/self/oom_score_adj (OCI `process.oomScoreAdj`). */
  oomScoreAdj?: number;
  /** The program's umask (OCI `process.user.umask`); 022 when absent. */
  umask?: number;
}

/**
 * What the OCI runtime's create adds to a container plan (src/oci): the helper stops before
 * execve, waiting on a fifo until `start` (runc's exec.fifo), and runs the hooks that belong in
 * the container's namespaces. The protocol steps are in src/process/protocol.ts.
 */
export interface OciPlanPart {
  /** Host path of the fifo, opened (O_PATH) before pivot_root and opened for writing at the end. */
  execFifo: string;
  /**
   * The fifo, opened O_PATH by the runtime, as this helper fd: a helper in a user namespace
   * may not reach the runtime's state directory (no capability over host root's directories,
   * nor, once it is the namespace's root, their owner bits); runc passes it too.
   */
  execFifoFd?: number;
  /** Send `{"type":"mounted"}` before pivot_root and wait for `{"type":"continue"}` (prestart and createRuntime hooks run then). */
  syncBeforePivot: boolean;
  /** Run in the container's mount namespace before pivot_root (config.json hooks.createContainer). */
  createContainerHooks: HookCommand[];
  /** Run in the container after start, before execve (hooks.startContainer). */
  startContainerHooks: HookCommand[];
  /** The state JSON the hooks get on stdin, without the status (the helper adds it); pid is the host's. */
  hookState: { ociVersion: string; id: string; pid: number; bundle: string; annotations: Record<string, string> };
}

export interface HookCommand {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds. */
  timeout?: number;
}

/** A compiled seccomp profile (src/seccomp), loaded by the helper with seccomp(2). */
export interface SeccompFilter {
  /** `RuntimeDefault` or `Localhost/<path>`: what the container runs under. */
  profile: string;
  /** The classic BPF program (struct sock_filter[], 8 bytes each), base64. */
  program: string;
  /** seccomp(2) SECCOMP_FILTER_FLAG_* bits. */
  flags: number;
}

export interface LsmLabel {
  module: 'apparmor' | 'selinux';
  /** AppArmor: a loaded profile's name; SELinux: `user:role:type:level`. */
  label: string;
}

export interface RootfsSpec {
  /** Overlay lower dirs, topmost first. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  /** Host directory the overlay is mounted on, inside the helper's own mount namespace. */
  mountPoint: string;
  readOnly: boolean;
  /** No overlay: mountPoint is a directory used as it is, bound onto itself (an OCI bundle's `root.path`). */
  bind?: boolean;
  /** Propagation of `/` in the container (OCI `linux.rootfsPropagation`); private when absent. */
  propagation?: MountFlagName[];
}

/** What the helper does about cgroups once it is in them (see src/plan/cgroup-view.ts). */
export interface CgroupView {
  /** unshare(CLONE_NEWCGROUP) after joining: /proc/self/cgroup shows `/`. */
  namespace: boolean;
  /** cgroup v2: mount cgroup2 (the namespace's root, the container's cgroup) at /sys/fs/cgroup. */
  cgroup2?: { readOnly: boolean };
}

export interface ContainerPlan {
  kind: 'container';
  /** `pod/container`, for messages. */
  id: string;
  rootfs: RootfsSpec;
  mounts: MountStep[];
  /**
   * Each is the host's node at the same path, bound onto a file in the container's /dev (never
   * made with mknod): /dev is a nodev tmpfs unless the container is privileged, so that a node
   * the container makes itself cannot be opened (what runc's devices cgroup does).
   */
  devices: DeviceNode[];
  symlinks: { path: string; target: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  process: ProcessSpec;
  /** cgroup.procs files (one per hierarchy) the process joins just before execve. */
  cgroupProcs: string[];
  /** The container's own cgroup view; absent: none (the host has no cgroups for it). */
  cgroupView?: CgroupView;
  /**
   * The pod has its own user namespace (the helper runs as its root): the supervisor mounted
   * the overlay at rootfs.mountPoint already (idmapped layers, src/userns/rootfs.ts).
   */
  inUserNamespace?: boolean;
  /**
   * The helper was started in a new user namespace of its own (minipod-oci, linux.uidMappings)
   * whose maps the runtime wrote before sending the plan: it becomes that namespace's root
   * before it mounts anything (runc's nsexec does the same setresuid(0)).
   */
  newUserNamespace?: boolean;
  /** sethostname in the container's own UTS namespace (OCI `hostname`; pods set it in the init). */
  hostname?: string;
  /** Bring `lo` up: the container has a network namespace of its own (OCI, as runc does). */
  loopbackUp?: boolean;
  /** setdomainname (OCI `domainname`). */
  domainname?: string;
  /** Namespaced sysctls written through /proc/sys before the mounts (OCI `linux.sysctl`), in order. */
  sysctls?: [string, string][];
  /**
   * A terminal for the container (OCI `process.terminal` with `--console-socket`): the helper
   * got the connected console socket as fd `socketFd`; once its root is set up it makes a pty
   * on the container's devpts, sends the master there and takes the slave as fds 0-2 and its
   * controlling terminal (src/process/console.ts).
   */
  console?: { socketFd: number; size?: { rows: number; cols: number } };
  /** Set by the OCI runtime's create (src/oci): wait for `start`, run the container-side hooks. */
  oci?: OciPlanPart;
  /** `--preserve-fds N`: descriptors the program gets as 3..3+N-1 (src/process/preserve-fds.ts). */
  preserveFds?: PreservedFds;
}

/**
 * The caller's fds 3..3+count-1, passed to the helper as its fds first..first+count-1 (fd 3 is
 * its control socket), and moved back to 3.. right before execve (runc's --preserve-fds).
 */
export interface PreservedFds {
  first: number;
  count: number;
}

export interface PodInitPlan {
  kind: 'pod-init';
  id: string;
  /** Empty host directory the init's tmpfs root is mounted on (in its own mount namespace). */
  rootDir: string;
  /** Static binary bound into the empty root, e.g. /usr/bin/catatonit. */
  initBinary: string;
  args: string[];
  /** Set when the pod has its own UTS namespace. */
  hostname?: string;
  /** Bring `lo` up: the pod has a network namespace of its own (no CNI plugin needed for it). */
  loopbackUp: boolean;
  cgroupProcs: string[];
}

/** Enter a running container: join its mount namespace (the rest was joined at spawn). */
export interface ExecPlan {
  kind: 'exec';
  id: string;
  /** /proc/<pid>/ns/mnt of the container's process. */
  mountNamespace: string;
  process: ProcessSpec;
  cgroupProcs: string[];
  /** /proc/<pid>/ns/cgroup of the container's process, joined once in its cgroups. */
  cgroupNamespace?: string;
  /** fds 0-2 are a pty slave: the helper makes it its controlling terminal (exec -t). */
  terminal?: boolean;
  /** `exec --preserve-fds N` (as ContainerPlan's). */
  preserveFds?: PreservedFds;
}

export type HelperPlan = ContainerPlan | PodInitPlan | ExecPlan;

/**
 * What the supervisor records at every container start (src/pod/container-files.ts) and exec
 * and probes start from: the container's process and the cgroups to join.
 */
export interface ContainerProcessRecord {
  process: ProcessSpec;
  cgroupProcs: string[];
}

/**
 * How the host mounts cgroups (src/cgroups/detect.ts decides): unified (v2 only), hybrid (v1 with
 * a cgroup2 `unified/` beside), legacy (v1 only). Here because planners take it as input.
 */
export type CgroupMode = 'unified' | 'hybrid' | 'legacy';
