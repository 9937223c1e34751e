/**
 * minipod's default seccomp profile (`RuntimeDefault`), built as data in the same OCI/Docker
 * format a `Localhost` profile uses, so both go through one parser and one compiler. It is
 * modelled on Docker's and containers-common's defaults: an allow list of the calls ordinary
 * programs make, calls that need a capability allowed only to a container that has it, and
 * the dangerous ones refused with EPERM.
 *
 * Anything not listed gets ENOSYS, as containers-common does: a syscall newer than this list
 * (or than libseccomp) then looks "not implemented", and libc and runtimes fall back to an
 * older call, where EPERM would make them fail. Calls refused on purpose get EPERM, so a
 * program says "Operation not permitted" rather than pretend the kernel is old.
 * `minipod seccomp-default` prints it (docs/security.md).
 */
import type { SeccompProfile, SyscallRule } from './profile.js';

const ENOSYS = 38;
const EPERM = 1;
const EAFNOSUPPORT = 97;
const AF_VSOCK = 40;

/** Namespace flags of clone(2): creating namespaces needs CAP_SYS_ADMIN. */
// prettier-ignore
const CLONE_NAMESPACE_FLAGS = {
  CLONE_NEWNS: 0x00020000, CLONE_NEWCGROUP: 0x02000000, CLONE_NEWUTS: 0x04000000, CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000, CLONE_NEWPID: 0x20000000, CLONE_NEWNET: 0x40000000,
};
const CLONE_NAMESPACE_MASK = Object.values(CLONE_NAMESPACE_FLAGS).reduce((a, b) => a | b, 0) >>> 0;

/** personality(2) values programs use: PER_LINUX, PER_LINUX32, UNAME26 of each, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** Ordinary calls, by what they are for. Each name counts on every architecture that has it. */
// prettier-ignore
const ALLOWED: Record<string, string[]> = {
  files: [
    'access', 'faccessat', 'faccessat2', 'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'read',
    'readv', 'pread64', 'preadv', 'preadv2', 'write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'lseek',
    '_llseek', 'dup', 'dup2', 'dup3', 'fcntl', 'fcntl64', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs',
    'sync_file_range', 'fallocate', 'fadvise64', 'fadvise64_64', 'readahead', 'truncate', 'truncate64',
    'ftruncate', 'ftruncate64', 'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64',
    'newfstatat', 'statx', 'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64',
    'readlink', 'readlinkat', 'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'rename',
    'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir', 'mknod', 'mknodat', 'chdir', 'fchdir', 'getcwd',
    'chmod', 'fchmod', 'fchmodat', 'chown', 'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32',
    'umask', 'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat', 'getxattr', 'lgetxattr',
    'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr', 'flistxattr',
    'removexattr', 'lremovexattr', 'fremovexattr', 'copy_file_range', 'sendfile', 'sendfile64', 'splice',
    'tee', 'name_to_handle_at', 'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch',
    'fanotify_mark', 'ioctl', 'memfd_create', 'memfd_secret',
  ],
  asyncIo: ['io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents'],
  polling: [
    'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64', 'epoll_create',
    'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait',
    'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_settime',
    'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64', 'pipe', 'pipe2',
  ],
  memory: [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2',
    'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'membarrier', 'pkey_alloc', 'pkey_free',
    'pkey_mprotect',
  ],
  processes: [
    'execve', 'execveat', 'fork', 'vfork', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid', 'kill', 'tkill',
    'tgkill', 'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
    'set_tid_address', 'set_robust_list', 'get_robust_list', 'futex', 'futex_time64', 'futex_waitv', 'rseq',
    'prctl', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage',
    'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'sched_yield', 'sched_getaffinity',
    'sched_setaffinity', 'sched_getattr', 'sched_setattr', 'sched_getparam', 'sched_setparam',
    'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
    'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'getcpu', 'capget', 'capset', 'seccomp',
    'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'ptrace', 'process_vm_readv', 'process_vm_writev',
    'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self', 'get_thread_area',
    'set_thread_area', 'uname', 'sysinfo', 'getrandom', 'restart_syscall',
  ],
  identity: [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32', 'getresuid',
    'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32', 'setuid', 'setuid32', 'setgid',
    'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32', 'setresuid', 'setresuid32', 'setresgid',
    'setresgid32', 'setgroups', 'setgroups32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
  ],
  signals: [
    'rt_sigaction', 'rt_sigprocmask', 'rt_sigpending', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait',
    'rt_sigtimedwait_time64', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask',
    'sigreturn', 'pause', 'alarm',
  ],
  time: [
    'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'times', 'getitimer', 'setitimer',
    'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
    'timer_settime64', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  ],
  network: [
    'socketpair', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname', 'getpeername', 'getsockopt',
    'setsockopt', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg',
    'recvmmsg_time64', 'shutdown', 'socketcall',
  ],
  ipc: [
    'ipc', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64',
    'semctl', 'shmget', 'shmat', 'shmdt', 'shmctl', 'mq_open', 'mq_unlink', 'mq_timedsend',
    'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_notify', 'mq_getsetattr',
  ],
};

/** Calls the kernel would allow a container only with a capability: allowed with it, EPERM without. */
// prettier-ignore
const NEEDS_CAPABILITY: [string[], string[]][] = [
  [['CAP_SYS_ADMIN'], [
    'mount', 'umount', 'umount2', 'pivot_root', 'unshare', 'setns', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
    'move_mount', 'open_tree', 'mount_setattr', 'quotactl', 'quotactl_fd', 'sethostname', 'setdomainname',
    'fanotify_init', 'lookup_dcookie',
  ]],
  [['CAP_SYS_ADMIN', 'CAP_BPF'], ['bpf']],
  [['CAP_SYS_ADMIN', 'CAP_PERFMON'], ['perf_event_open']],
  [['CAP_SYS_ADMIN', 'CAP_SYSLOG'], ['syslog']],
  [['CAP_DAC_READ_SEARCH'], ['open_by_handle_at']],
  [['CAP_SYS_MODULE'], ['init_module', 'finit_module', 'delete_module']],
  [['CAP_SYS_BOOT'], ['reboot']],
  [['CAP_SYS_CHROOT'], ['chroot']],
  [['CAP_SYS_PACCT'], ['acct']],
  [['CAP_SYS_PTRACE'], ['kcmp', 'pidfd_getfd', 'process_madvise']],
  [['CAP_SYS_RAWIO'], ['iopl', 'ioperm']],
  [['CAP_SYS_TIME'], ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']],
  [['CAP_SYS_TTY_CONFIG'], ['vhangup']],
  [['CAP_SYS_NICE'], ['mbind', 'get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node']],
];

/**
 * Refused whatever the capabilities: the kernel keyring is not namespaced (keys leak between
 * containers), kexec replaces the host kernel, userfaultfd and vmsplice are exploit primitives,
 * the rest is obsolete or host-wide.
 */
// prettier-ignore
const REFUSED = [
  'add_key', 'keyctl', 'request_key', 'kexec_load', 'kexec_file_load', 'userfaultfd', 'vmsplice', 'swapon',
  'swapoff', 'uselib', 'ustat', 'sysfs', 'nfsservctl', 'bdflush', 'vm86', 'vm86old', 'migrate_pages',
  'move_pages', 'io_pgetevents', 'io_pgetevents_time64', 'pciconfig_iobase', 'pciconfig_read',
  'pciconfig_write', 'query_module', 'create_module', 'get_kernel_syms',
];

function rule(names: string[], action: SyscallRule['action'], extra: Partial<SyscallRule> = {}): SyscallRule {
  return { names, action, args: [], includes: { arches: [], caps: [] }, excludes: { arches: [], caps: [] }, at: '', ...extra };
}

const none = { arches: [], caps: [] };

function buildDefaultProfile(): SeccompProfile {
  const rules: SyscallRule[] = [];
  rules.push(rule(Object.values(ALLOWED).flat(), 'SCMP_ACT_ALLOW'));
  rules.push(rule(['arch_prctl'], 'SCMP_ACT_ALLOW', { includes: { arches: ['amd64', 'x32'], caps: [] } }));
  rules.push(rule(['modify_ldt'], 'SCMP_ACT_ALLOW', { includes: { arches: ['amd64', 'x32', 'x86'], caps: [] } }));
  rules.push(
    rule(['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], 'SCMP_ACT_ALLOW', {
      includes: { arches: ['arm', 'arm64'], caps: [] },
    }),
  );
  rules.push(rule(['socket'], 'SCMP_ACT_ALLOW', { args: [{ index: 0, op: 'SCMP_CMP_NE', value: AF_VSOCK, valueTwo: 0 }] }));
  // vsock reaches the hypervisor's host side: say the family is not there.
  rules.push(
    rule(['socket'], 'SCMP_ACT_ERRNO', { errnoRet: EAFNOSUPPORT, args: [{ index: 0, op: 'SCMP_CMP_EQ', value: AF_VSOCK, valueTwo: 0 }] }),
  );
  for (const p of PERSONALITIES) {
    rules.push(rule(['personality'], 'SCMP_ACT_ALLOW', { args: [{ index: 0, op: 'SCMP_CMP_EQ', value: p, valueTwo: 0 }] }));
  }
  for (const [caps, names] of NEEDS_CAPABILITY) {
    // Allowed with any one of the capabilities; refused when the container has none of them.
    for (const cap of caps) rules.push(rule(names, 'SCMP_ACT_ALLOW', { includes: { arches: [], caps: [cap] } }));
    rules.push(rule(names, 'SCMP_ACT_ERRNO', { errnoRet: EPERM, excludes: { arches: [], caps } }));
  }
  // clone: threads and processes yes, new namespaces only with CAP_SYS_ADMIN. clone3 passes its
  // flags in memory, which a filter cannot read: without CAP_SYS_ADMIN it is "not implemented"
  // and glibc falls back to clone.
  const withAdmin = { arches: [], caps: ['CAP_SYS_ADMIN'] };
  rules.push(rule(['clone', 'clone3'], 'SCMP_ACT_ALLOW', { includes: withAdmin }));
  rules.push(
    rule(['clone'], 'SCMP_ACT_ALLOW', {
      args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: CLONE_NAMESPACE_MASK, valueTwo: 0 }],
      excludes: withAdmin,
    }),
  );
  for (const flag of Object.values(CLONE_NAMESPACE_FLAGS)) {
    rules.push(
      rule(['clone'], 'SCMP_ACT_ERRNO', {
        errnoRet: EPERM,
        args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: flag, valueTwo: flag }],
        excludes: withAdmin,
      }),
    );
  }
  rules.push(rule(['clone3'], 'SCMP_ACT_ERRNO', { errnoRet: ENOSYS, excludes: withAdmin }));
  rules.push(rule(REFUSED, 'SCMP_ACT_ERRNO', { errnoRet: EPERM, includes: none, excludes: none }));
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    archMap: [
      { architecture: 'x86_64', subArchitectures: ['x86'] },
      { architecture: 'aarch64', subArchitectures: ['arm'] },
    ],
    flags: [],
    syscalls: rules.map((r, i) => ({ ...r, at: `syscalls[${i}]` })),
  };
}

export const DEFAULT_PROFILE: SeccompProfile = buildDefaultProfile();

/** The default profile in the JSON format a Localhost profile uses (a starting point for one). */
export function defaultProfileJson(): string {
  const p = DEFAULT_PROFILE;
  const filter = (f: { arches: string[]; caps: string[] }) => {
    const out: Record<string, string[]> = {};
    if (f.arches.length) out.arches = f.arches;
    if (f.caps.length) out.caps = f.caps;
    return Object.keys(out).length ? out : undefined;
  };
  return (
    JSON.stringify(
      {
        defaultAction: p.defaultAction,
        defaultErrnoRet: p.defaultErrnoRet,
        archMap: p.archMap!.map((a) => ({
          architecture: `SCMP_ARCH_${a.architecture.toUpperCase()}`,
          subArchitectures: a.subArchitectures.map((s) => `SCMP_ARCH_${s.toUpperCase()}`),
        })),
        syscalls: p.syscalls.map((r) => ({
          names: r.names,
          action: r.action,
          errnoRet: r.errnoRet,
          args: r.args.length ? r.args : undefined,
          includes: filter(r.includes),
          excludes: filter(r.excludes),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
