/**
 * Kernel constants for x86_64 Linux, from the uapi headers (linux/sched.h, linux/mount.h,
 * linux/prctl.h, linux/capability.h, asm/unistd_64.h). Only what minipod uses.
 */

export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FS: 0x00000200,
} as const;

/** mount(2) flags. */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

export type MountFlagName = keyof typeof MS;

/** umount2(2) flags. */
export const MNT = {
  FORCE: 1,
  DETACH: 2,
  EXPIRE: 4,
} as const;

export const PR = {
  SET_PDEATHSIG: 1,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  CAPBSET_READ: 23,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

/** waitid(2): idtype, options, and si_code values of a child's end. */
export const WAIT = { P_PID: 1, WNOHANG: 1, WEXITED: 4, CLD_EXITED: 1 } as const;

/** x86_64 syscall numbers for calls glibc 2.36 does not wrap, or wraps for every thread. */
export const SYS = {
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capget: 125,
  capset: 126,
  pivot_root: 155,
  close_range: 436,
  seccomp: 317,
  open_tree: 428,
  move_mount: 429,
  mount_setattr: 442,
} as const;

/** The new mount API (linux/mount.h): detached mounts and idmapped mounts. */
export const MOUNT_API = {
  OPEN_TREE_CLONE: 1,
  OPEN_TREE_CLOEXEC: 0o2000000,
  AT_EMPTY_PATH: 0x1000,
  AT_RECURSIVE: 0x8000,
  AT_FDCWD: -100,
  MOVE_MOUNT_F_EMPTY_PATH: 0x4,
  MOUNT_ATTR_IDMAP: 0x00100000,
  /** sizeof(struct mount_attr), MOUNT_ATTR_SIZE_VER0. */
  MOUNT_ATTR_SIZE: 32,
} as const;

/** close_range(2) flags. */
export const CLOSE_RANGE = { CLOEXEC: 4 } as const;

export const F = {
  GETFD: 1,
  SETFD: 2,
  GETFL: 3,
  SETFL: 4,
  FD_CLOEXEC: 1,
  O_NONBLOCK: 0o4000,
} as const;

/** flock(2) operations (sys/file.h). */
export const LOCK = {
  SH: 1,
  EX: 2,
  NB: 4,
  UN: 8,
} as const;

/** Terminal ioctls (asm-generic/ioctls.h) and the open(2) flags a pty needs. */
export const TIOC = {
  GWINSZ: 0x5413,
  SWINSZ: 0x5414,
  SCTTY: 0x540e,
  /** _IOR('T', 0x30, unsigned int) */
  GPTN: 0x80045430,
  /** _IOW('T', 0x31, int) */
  SPTLCK: 0x40045431,
  /** _IO('T', 0x41): opens the peer (slave) of a master; Linux 4.13+. */
  GPTPEER: 0x5441,
} as const;

export const O = {
  RDWR: 0o2,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
} as const;

export const SIG = {
  DFL: 0,
  SETMASK: 2,
  /** Highest signal number on Linux (SIGRTMAX). */
  MAX: 64,
} as const;

/** _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set. */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Capability names in bit order (linux/capability.h), without the CAP_ prefix. */
export const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof CAPABILITIES)[number];

export function capabilityBit(name: string): number {
  const bit = (CAPABILITIES as readonly string[]).indexOf(name);
  if (bit < 0) throw new Error(`unknown capability ${name}`);
  return bit;
}

/** Docker's and podman's default set for containers that do not ask for more. */
export const DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** Network interface ioctls (linux/sockios.h, linux/if.h). */
export const NET = {
  AF_UNIX: 1,
  AF_INET: 2,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_CLOEXEC: 0o2000000,
  SIOCGIFFLAGS: 0x8913,
  SIOCSIFFLAGS: 0x8914,
  IFF_UP: 0x1,
  /** sizeof(struct ifreq) on x86_64; the name is the first 16 bytes, flags a short at 16. */
  IFREQ_SIZE: 40,
  IFNAMSIZ: 16,
  /** sizeof(struct sockaddr_un): a short family, then 108 bytes of path. */
  SOCKADDR_UN_SIZE: 110,
  SUN_PATH_MAX: 107,
} as const;

/** setrlimit(2) resource numbers (asm-generic/resource.h, x86_64), by the names config.json uses. */
export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};
