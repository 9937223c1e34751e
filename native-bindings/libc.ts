/**
 * koffi declarations of the libc functions minipod calls. Loaded lazily on first use so that
 * importing this module (for types, or in unit tests with a fake syscall layer) loads nothing.
 * Callers go through src/syscall, which reads errno and turns failures into SyscallError.
 */
import { createRequire } from 'node:module';
import { MOUNT_API, SYS } from './constants.js';

const require = createRequire(import.meta.url);

// koffi is CommonJS with loose typings; the table below is the typed surface we use.
type KoffiFn = (...args: unknown[]) => unknown;

export interface Libc {
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  sethostname(name: string, len: number): number;
  setdomainname(name: string, len: number): number;
  /** prlimit(2) on the calling process (pid 0): new limits from a struct rlimit64, old ones not read. */
  prlimit(pid: number, resource: number, limits: Buffer, old: null): number;
  chdir(path: string): number;
  fchdir(fd: number): number;
  chroot(path: string): number;
  execve(path: string, argv: (string | null)[], envp: (string | null)[]): number;
  prctl(option: number, a2: number, a3: number, a4: number, a5: number): number;
  setresuid(r: number, e: number, s: number): number;
  setresgid(r: number, e: number, s: number): number;
  setgroups(n: number, groups: Uint32Array | null): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  umask(mask: number): number;
  signal(sig: number, handler: null): unknown;
  sigprocmask(how: number, set: Buffer, old: null): number;
  /** syscall(2) with up to three pointer/long arguments (x86_64). */
  syscall3(nr: number, a: unknown, b: unknown): number;
  capset(hdr: Buffer, data: Buffer): number;
  /** close_range(2): acts on every fd from first to last (no glibc 2.36 wrapper in Debian 12's headers). */
  closeRange(first: number, last: number, flags: number): number;
  mknod(path: string, mode: number, dev: bigint): number;
  /** ioctl(2) whose argument is a plain int (TIOCSCTTY, TIOCGPTPEER). */
  ioctlInt(fd: number, request: number, arg: number): number;
  /** ioctl(2) whose argument points at a buffer (TIOCSWINSZ, TIOCGPTN, TIOCSPTLCK). */
  ioctlPtr(fd: number, request: number, arg: Buffer): number;
  flock(fd: number, op: number): number;
  socket(domain: number, type: number, protocol: number): number;
  /** connect(2) / bind(2) with a struct sockaddr_un in a Buffer. */
  connect(fd: number, addr: Buffer, len: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: null, len: null, flags: number): number;
  /** sendmsg(2)/recvmsg(2) with one iovec; koffi passes the Buffers as pointers. */
  sendmsg(fd: number, msg: MsgHdr, flags: number): number;
  recvmsg(fd: number, msg: MsgHdr, flags: number): number;
  dup2(oldFd: number, newFd: number): number;
  /** waitid(2) into a 128-byte siginfo_t. */
  waitid(idtype: number, id: number, info: Buffer, options: number): number;
  close(fd: number): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer | null, size: number): number;
  lremovexattr(path: string, name: string): number;
  /** open_tree(2): a detached copy of the mount tree at path (OPEN_TREE_CLONE). */
  openTree(path: string, flags: number): number;
  /** mount_setattr(2) on the mount an fd refers to (AT_EMPTY_PATH). */
  mountSetattr(fd: number, flags: number, attr: Buffer): number;
  /** move_mount(2) of a detached mount fd onto a path. */
  moveMount(fd: number, target: string): number;
  /** pipe2(2): fills fds with [read end, write end]. */
  pipe2(fds: Int32Array, flags: number): number;
  /** seccomp(SECCOMP_SET_MODE_FILTER, flags, &{len, program}) for the calling thread. */
  seccompFilter(flags: number, program: Buffer): number;
  errno(): number;
}

/** struct msghdr with one struct iovec, as koffi takes it (see libc() below). */
export interface MsgHdr {
  msg_name: null;
  msg_namelen: number;
  msg_iov: { iov_base: Buffer; iov_len: number };
  msg_iovlen: number;
  msg_control: Buffer | null;
  msg_controllen: number;
  msg_flags: number;
}

let cached: Libc | undefined;

const SECCOMP_SET_MODE_FILTER = 1;

export function libc(): Libc {
  if (cached) return cached;
  const koffi = require('koffi');
  const lib = koffi.load('libc.so.6');
  const f = (decl: string): KoffiFn => lib.func(decl);
  const syscall = f('long syscall(long number, ...)');
  const fcntl = f('int fcntl(int fd, int cmd, ...)');
  const ioctl = f('int ioctl(int fd, unsigned long request, ...)');
  const sockFprog = koffi.struct('minipod_sock_fprog', { len: 'uint16_t', filter: 'void *' });
  const iovec = koffi.struct('minipod_iovec', { iov_base: 'void *', iov_len: 'size_t' });
  koffi.struct('minipod_msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: koffi.pointer(iovec),
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  const sendmsg = f('long sendmsg(int fd, const minipod_msghdr *msg, int flags)');
  // _Inout_: recvmsg writes msg_controllen and msg_flags back; the Buffers are filled in place.
  const recvmsg = f('long recvmsg(int fd, _Inout_ minipod_msghdr *msg, int flags)');
  cached = {
    unshare: f('int unshare(int flags)') as Libc['unshare'],
    setns: f('int setns(int fd, int nstype)') as Libc['setns'],
    mount: f(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
    ) as Libc['mount'],
    umount2: f('int umount2(const char *target, int flags)') as Libc['umount2'],
    sethostname: f('int sethostname(const char *name, size_t len)') as Libc['sethostname'],
    setdomainname: f('int setdomainname(const char *name, size_t len)') as Libc['setdomainname'],
    prlimit: f('int prlimit(int pid, int resource, const void *new_limit, void *old_limit)') as Libc['prlimit'],
    chdir: f('int chdir(const char *path)') as Libc['chdir'],
    fchdir: f('int fchdir(int fd)') as Libc['fchdir'],
    chroot: f('int chroot(const char *path)') as Libc['chroot'],
    execve: f('int execve(const char *path, const char **argv, const char **envp)') as Libc['execve'],
    prctl: f('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)') as Libc['prctl'],
    // Raw syscalls, not glibc's wrappers: those change every thread of the process (a signal
    // to each of Node's ~10 threads, waiting for all, ms when they run niced). Only the thread
    // that execs matters, and execve leaves only that one.
    setresuid: (r, e, s) => Number(syscall(SYS.setresuid, 'uint32_t', r, 'uint32_t', e, 'uint32_t', s)),
    setresgid: (r, e, s) => Number(syscall(SYS.setresgid, 'uint32_t', r, 'uint32_t', e, 'uint32_t', s)),
    setgroups: (n, groups) => Number(syscall(SYS.setgroups, 'int', n, 'const uint32_t *', groups)),
    fcntl: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg) as number,
    umask: f('uint32_t umask(uint32_t mask)') as Libc['umask'],
    signal: f('void *signal(int sig, void *handler)') as Libc['signal'],
    sigprocmask: f('int sigprocmask(int how, const void *set, void *old)') as Libc['sigprocmask'],
    syscall3: (nr, a, b) => Number(syscall(nr, 'const char *', a, 'const char *', b)),
    capset: (hdr, data) => Number(syscall(126, 'void *', hdr, 'void *', data)),
    closeRange: (first, last, flags) => Number(syscall(SYS.close_range, 'uint32_t', first, 'uint32_t', last, 'uint32_t', flags)),
    mknod: f('int mknod(const char *path, uint32_t mode, uint64_t dev)') as Libc['mknod'],
    ioctlInt: (fd, request, arg) => ioctl(fd, request, 'long', arg) as number,
    ioctlPtr: (fd, request, arg) => ioctl(fd, request, 'void *', arg) as number,
    pipe2: f('int pipe2(_Out_ int *fds, int flags)') as Libc['pipe2'],
    flock: f('int flock(int fd, int op)') as Libc['flock'],
    socket: f('int socket(int domain, int type, int protocol)') as Libc['socket'],
    close: f('int close(int fd)') as Libc['close'],
    connect: f('int connect(int fd, const void *addr, uint32_t len)') as Libc['connect'],
    bind: f('int bind(int fd, const void *addr, uint32_t len)') as Libc['bind'],
    listen: f('int listen(int fd, int backlog)') as Libc['listen'],
    accept4: f('int accept4(int fd, void *addr, void *len, int flags)') as Libc['accept4'],
    sendmsg: (fd, msg, flags) => Number(sendmsg(fd, msg, flags)),
    recvmsg: (fd, msg, flags) => Number(recvmsg(fd, msg, flags)),
    dup2: f('int dup2(int oldfd, int newfd)') as Libc['dup2'],
    waitid: f('int waitid(int idtype, int id, _Out_ uint8_t *info, int options)') as Libc['waitid'],
    lsetxattr: f('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)') as Libc['lsetxattr'],
    seccompFilter: (flags, program) =>
      Number(
        syscall(SYS.seccomp, 'uint32_t', SECCOMP_SET_MODE_FILTER, 'uint32_t', flags, koffi.pointer(sockFprog), {
          len: program.length / 8,
          filter: program,
        }),
      ),
    lgetxattr: f('long lgetxattr(const char *path, const char *name, void *value, size_t size)') as Libc['lgetxattr'],
    lremovexattr: f('int lremovexattr(const char *path, const char *name)') as Libc['lremovexattr'],
    openTree: (path, flags) => Number(syscall(SYS.open_tree, 'int', MOUNT_API.AT_FDCWD, 'const char *', path, 'unsigned int', flags)),
    mountSetattr: (fd, flags, attr) =>
      Number(syscall(SYS.mount_setattr, 'int', fd, 'const char *', '', 'unsigned int', flags, 'void *', attr, 'size_t', attr.length)),
    moveMount: (fd, target) =>
      Number(
        syscall(
          SYS.move_mount,
          'int',
          fd,
          'const char *',
          '',
          'int',
          MOUNT_API.AT_FDCWD,
          'const char *',
          target,
          'unsigned int',
          MOUNT_API.MOVE_MOUNT_F_EMPTY_PATH,
        ),
      ),
    errno: () => koffi.errno() as number,
  };
  return cached;
}
