/** The real Syscall: libc through koffi. */
import { libc } from '../../native-bindings/libc.js';
import {
  CLOSE_RANGE,
  F,
  LINUX_CAPABILITY_VERSION_3,
  LOCK,
  MOUNT_API,
  MS,
  NET,
  O,
  PR,
  SIG,
  SYS,
  WAIT,
  TIOC,
} from '../../native-bindings/constants.js';
import { SyscallError } from '../errors.js';
import type { CapabilitySets, Syscall, WindowSize } from './syscall.js';
import { decodeWinsize, encodeWinsize } from './winsize.js';
import { cmsgSpace, decodeRightsControl, encodeRightsControl } from './cmsg.js';

const EWOULDBLOCK = 11;

/** Throws SyscallError when a libc call returned -1, reading errno at once (it is per thread and live). */
function check(result: number, call: string, detail?: string): number {
  if (result === -1) throw new SyscallError(call, libc().errno(), detail);
  return result;
}

function mountFlagNames(flags: number): string {
  const names = Object.entries(MS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
  return names.length ? ` [${names.join(',')}]` : '';
}

function capMask(bits: number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const bit of bits) {
    if (bit < 32) lo |= 1 << bit;
    else hi |= 1 << (bit - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

const ENODATA = 61;
const EINTR = 4;
const EBADF = 9;
/** recvmsg's MSG_CMSG_CLOEXEC: received descriptors are close-on-exec. */
const MSG_CMSG_CLOEXEC = 0x40000000;
/** At most this many descriptors are taken from one message. */
const MAX_RECEIVED_FDS = 16;

function sockaddrUn(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0 || bytes.length > NET.SUN_PATH_MAX) {
    throw new SyscallError('socket path', 36, `${path} (at most ${NET.SUN_PATH_MAX} bytes)`);
  }
  const addr = Buffer.alloc(NET.SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(NET.AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

function unixSocket(): number {
  return check(libc().socket(NET.AF_UNIX, NET.SOCK_STREAM | NET.SOCK_CLOEXEC, 0), 'socket(AF_UNIX)');
}

export class LinuxSyscall implements Syscall {
  unshare(flags: number): void {
    check(libc().unshare(flags), 'unshare', `0x${flags.toString(16)}`);
  }
  setns(fd: number, nstype: number): void {
    check(libc().setns(fd, nstype), 'setns', `fd ${fd} type 0x${nstype.toString(16)}`);
  }
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
    const what = fstype ? `${fstype} on ${target}` : `${source ?? 'none'} on ${target}`;
    check(libc().mount(source, target, fstype, flags, data), 'mount', `${what}${mountFlagNames(flags)}`);
  }
  umount2(target: string, flags: number): void {
    check(libc().umount2(target, flags), 'umount2', target);
  }
  pivotRoot(newRoot: string, putOld: string): void {
    check(libc().syscall3(SYS.pivot_root, newRoot, putOld), 'pivot_root', newRoot);
  }
  sethostname(name: string): void {
    check(libc().sethostname(name, Buffer.byteLength(name)), 'sethostname', name);
  }
  setdomainname(name: string): void {
    check(libc().setdomainname(name, Buffer.byteLength(name)), 'setdomainname', name);
  }
  setrlimit(resource: number, soft: number, hard: number): void {
    const limits = Buffer.alloc(16);
    // RLIM_INFINITY is ~0 (all bits set); OCI configs write it as 2^64-1, which JSON rounds up.
    const value = (n: number): bigint => (n < 0 || n >= 2 ** 63 ? 0xffffffffffffffffn : BigInt(n));
    limits.writeBigUInt64LE(value(soft), 0);
    limits.writeBigUInt64LE(value(hard), 8);
    check(libc().prlimit(0, resource, limits, null), 'prlimit', `resource ${resource} = ${soft}:${hard}`);
  }
  bringInterfaceUp(name: string): void {
    const fd = check(libc().socket(NET.AF_INET, NET.SOCK_DGRAM | NET.SOCK_CLOEXEC, 0), 'socket');
    try {
      const ifr = Buffer.alloc(NET.IFREQ_SIZE);
      ifr.write(name, 0, NET.IFNAMSIZ - 1, 'utf8');
      check(libc().ioctlPtr(fd, NET.SIOCGIFFLAGS, ifr), 'ioctl(SIOCGIFFLAGS)', name);
      ifr.writeUInt16LE(ifr.readUInt16LE(NET.IFNAMSIZ) | NET.IFF_UP, NET.IFNAMSIZ);
      check(libc().ioctlPtr(fd, NET.SIOCSIFFLAGS, ifr), 'ioctl(SIOCSIFFLAGS)', name);
    } finally {
      libc().close(fd);
    }
  }
  mknod(path: string, mode: number, major: number, minor: number): void {
    // glibc's makedev(): the dev_t layout of the 64-bit kernel ABI.
    const M = BigInt(major);
    const m = BigInt(minor);
    const dev = ((M & 0xfffff000n) << 32n) | ((M & 0xfffn) << 8n) | ((m & 0xffffff00n) << 12n) | (m & 0xffn);
    check(libc().mknod(path, mode, dev), 'mknod', path);
  }
  chdir(path: string): void {
    check(libc().chdir(path), 'chdir', path);
  }
  setresuid(uid: number): void {
    check(libc().setresuid(uid, uid, uid), 'setresuid', String(uid));
  }
  setresgid(gid: number): void {
    check(libc().setresgid(gid, gid, gid), 'setresgid', String(gid));
  }
  setgroups(gids: number[]): void {
    check(libc().setgroups(gids.length, gids.length ? Uint32Array.from(gids) : null), 'setgroups');
  }
  capset(sets: CapabilitySets): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    header.writeInt32LE(0, 4); // 0 = the calling thread
    const data = Buffer.alloc(24); // two __user_cap_data_struct {effective, permitted, inheritable}
    const [eLo, eHi] = capMask(sets.effective);
    const [pLo, pHi] = capMask(sets.permitted);
    const [iLo, iHi] = capMask(sets.inheritable);
    data.writeUInt32LE(eLo, 0);
    data.writeUInt32LE(pLo, 4);
    data.writeUInt32LE(iLo, 8);
    data.writeUInt32LE(eHi, 12);
    data.writeUInt32LE(pHi, 16);
    data.writeUInt32LE(iHi, 20);
    check(libc().capset(header, data), 'capset');
  }
  dropBoundingCapability(bit: number): void {
    check(libc().prctl(PR.CAPBSET_DROP, bit, 0, 0, 0), 'prctl(PR_CAPBSET_DROP)', String(bit));
  }
  raiseAmbientCapability(bit: number): void {
    check(libc().prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, bit, 0, 0), 'prctl(PR_CAP_AMBIENT_RAISE)', String(bit));
  }
  clearAmbientCapabilities(): void {
    check(libc().prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'prctl(PR_CAP_AMBIENT_CLEAR_ALL)');
  }
  reapExited(pid: number): { code: number | null; signal: number | null } | undefined {
    // siginfo_t (x86_64): si_code at 8, si_pid at 16, si_status at 24.
    const info = Buffer.alloc(128);
    check(libc().waitid(WAIT.P_PID, pid, info, WAIT.WEXITED | WAIT.WNOHANG), 'waitid', String(pid));
    if (info.readInt32LE(16) === 0) return undefined;
    const status = info.readInt32LE(24);
    return info.readInt32LE(8) === WAIT.CLD_EXITED ? { code: status, signal: null } : { code: null, signal: status };
  }
  setChildSubreaper(): void {
    check(libc().prctl(PR.SET_CHILD_SUBREAPER, 1, 0, 0, 0), 'prctl(PR_SET_CHILD_SUBREAPER)');
  }
  setKeepCaps(on: boolean): void {
    check(libc().prctl(PR.SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0), 'prctl(PR_SET_KEEPCAPS)');
  }
  setNoNewPrivileges(): void {
    check(libc().prctl(PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'prctl(PR_SET_NO_NEW_PRIVS)');
  }
  setCloseOnExec(fd: number, on: boolean): void {
    const flags = check(libc().fcntl(fd, F.GETFD, 0), 'fcntl(F_GETFD)', String(fd));
    const next = on ? flags | F.FD_CLOEXEC : flags & ~F.FD_CLOEXEC;
    check(libc().fcntl(fd, F.SETFD, next), 'fcntl(F_SETFD)', String(fd));
  }
  closeOnExecFrom(fd: number): void {
    check(libc().closeRange(fd, 0xffffffff, CLOSE_RANGE.CLOEXEC), 'close_range', String(fd));
  }
  setDumpable(on: boolean): void {
    check(libc().prctl(PR.SET_DUMPABLE, on ? 1 : 0, 0, 0, 0), 'prctl(PR_SET_DUMPABLE)');
  }
  resetSignals(): void {
    // SIGKILL (9) and SIGSTOP (19) cannot be changed; 32 and 33 are glibc's own.
    for (let sig = 1; sig <= SIG.MAX; sig++) {
      if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue;
      libc().signal(sig, null);
    }
    check(libc().sigprocmask(SIG.SETMASK, Buffer.alloc(128), null), 'sigprocmask');
  }
  umask(mask: number): number {
    return libc().umask(mask);
  }
  loadSeccompFilter(program: Buffer, flags: number): void {
    check(libc().seccompFilter(flags, program), 'seccomp(SECCOMP_SET_MODE_FILTER)', `${program.length / 8} instructions`);
  }
  mountIdmapped(path: string, target: string, usernsFd: number): void {
    const fd = check(libc().openTree(path, MOUNT_API.OPEN_TREE_CLONE | MOUNT_API.OPEN_TREE_CLOEXEC), 'open_tree', path);
    try {
      // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
      const attr = Buffer.alloc(MOUNT_API.MOUNT_ATTR_SIZE);
      attr.writeBigUInt64LE(BigInt(MOUNT_API.MOUNT_ATTR_IDMAP), 0);
      attr.writeBigUInt64LE(BigInt(usernsFd), 24);
      check(libc().mountSetattr(fd, MOUNT_API.AT_EMPTY_PATH, attr), 'mount_setattr(MOUNT_ATTR_IDMAP)', path);
      check(libc().moveMount(fd, target), 'move_mount', target);
    } finally {
      libc().close(fd);
    }
  }
  execve(path: string, argv: string[], envp: string[]): never {
    libc().execve(path, [...argv, null], [...envp, null]);
    throw new SyscallError('execve', libc().errno(), path);
  }

  flock(fd: number, operation: 'shared' | 'exclusive' | 'unlock'): boolean {
    const op = operation === 'unlock' ? LOCK.UN : (operation === 'shared' ? LOCK.SH : LOCK.EX) | LOCK.NB;
    if (libc().flock(fd, op) === 0) return true;
    const errno = libc().errno();
    if (errno === EWOULDBLOCK && operation !== 'unlock') return false;
    throw new SyscallError(`flock(${operation})`, errno, `fd ${fd}`);
  }
  pipe(): [number, number] {
    const fds = new Int32Array(2);
    check(libc().pipe2(fds, O.CLOEXEC), 'pipe2');
    return [fds[0]!, fds[1]!];
  }
  setNonBlocking(fd: number, on: boolean): void {
    const flags = check(libc().fcntl(fd, F.GETFL, 0), 'fcntl(F_GETFL)', String(fd));
    check(libc().fcntl(fd, F.SETFL, on ? flags | F.O_NONBLOCK : flags & ~F.O_NONBLOCK), 'fcntl(F_SETFL)', String(fd));
  }
  lsetxattr(path: string, name: string, value: Buffer): void {
    check(libc().lsetxattr(path, name, value, value.length, 0), 'lsetxattr', `${path} ${name}`);
  }
  lgetxattr(path: string, name: string): Buffer | undefined {
    const buf = Buffer.alloc(4096);
    const n = Number(libc().lgetxattr(path, name, buf, buf.length));
    if (n >= 0) return buf.subarray(0, n);
    const errno = libc().errno();
    if (errno === ENODATA) return undefined;
    throw new SyscallError('lgetxattr', errno, `${path} ${name}`);
  }
  lremovexattr(path: string, name: string): void {
    if (libc().lremovexattr(path, name) === 0) return;
    const errno = libc().errno();
    if (errno !== ENODATA) throw new SyscallError('lremovexattr', errno, `${path} ${name}`);
  }
  connectUnixSocket(path: string): number {
    const addr = sockaddrUn(path);
    const fd = unixSocket();
    for (;;) {
      if (libc().connect(fd, addr, addr.length) === 0) return fd;
      const errno = libc().errno();
      if (errno === EINTR) continue;
      libc().close(fd);
      throw new SyscallError('connect', errno, path);
    }
  }
  listenUnixSocket(path: string): number {
    const addr = sockaddrUn(path);
    const fd = unixSocket();
    try {
      check(libc().bind(fd, addr, addr.length), 'bind', path);
      check(libc().listen(fd, 8), 'listen', path);
      return fd;
    } catch (err) {
      libc().close(fd);
      throw err;
    }
  }
  acceptConnection(listener: number): number {
    for (;;) {
      const fd = libc().accept4(listener, null, null, NET.SOCK_CLOEXEC);
      if (fd >= 0) return fd;
      const errno = libc().errno();
      if (errno !== EINTR) throw new SyscallError('accept4', errno, `fd ${listener}`);
    }
  }
  sendFds(socket: number, data: Buffer, fds: number[]): void {
    // A zero-length payload is not delivered on a stream socket: send at least one byte.
    const payload = data.length > 0 ? data : Buffer.from([0]);
    const control = encodeRightsControl(fds);
    const msg = {
      msg_name: null,
      msg_namelen: 0,
      msg_iov: { iov_base: payload, iov_len: payload.length },
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: control.length,
      msg_flags: 0,
    };
    for (;;) {
      if (libc().sendmsg(socket, msg, 0) >= 0) return;
      const errno = libc().errno();
      if (errno !== EINTR) throw new SyscallError('sendmsg(SCM_RIGHTS)', errno, `fd ${socket}`);
    }
  }
  receiveFds(socket: number, maxData: number): { data: Buffer; fds: number[] } {
    const data = Buffer.alloc(Math.max(1, maxData));
    const control = Buffer.alloc(cmsgSpace(4 * MAX_RECEIVED_FDS));
    const msg = {
      msg_name: null,
      msg_namelen: 0,
      msg_iov: { iov_base: data, iov_len: data.length },
      msg_iovlen: 1,
      msg_control: control,
      msg_controllen: control.length,
      msg_flags: 0,
    };
    for (;;) {
      const n = libc().recvmsg(socket, msg, MSG_CMSG_CLOEXEC);
      if (n >= 0) return { data: data.subarray(0, n), fds: decodeRightsControl(control, msg.msg_controllen) };
      const errno = libc().errno();
      if (errno !== EINTR) throw new SyscallError('recvmsg', errno, `fd ${socket}`);
    }
  }
  close(fd: number): void {
    if (libc().close(fd) === 0) return;
    const errno = libc().errno();
    if (errno !== EBADF && errno !== EINTR) throw new SyscallError('close', errno, `fd ${fd}`);
  }
  dup2(oldFd: number, newFd: number): void {
    check(libc().dup2(oldFd, newFd), 'dup2', `${oldFd} -> ${newFd}`);
  }

  unlockPty(master: number): void {
    check(libc().ioctlPtr(master, TIOC.SPTLCK, Buffer.alloc(4)), 'ioctl(TIOCSPTLCK)', `fd ${master}`);
  }
  openPtyPeer(master: number, flags: number): number {
    return check(libc().ioctlInt(master, TIOC.GPTPEER, flags), 'ioctl(TIOCGPTPEER)', `fd ${master}`);
  }
  ptyNumber(master: number): number {
    const buf = Buffer.alloc(4);
    check(libc().ioctlPtr(master, TIOC.GPTN, buf), 'ioctl(TIOCGPTN)', `fd ${master}`);
    return buf.readUInt32LE(0);
  }
  setWindowSize(fd: number, size: WindowSize): void {
    check(libc().ioctlPtr(fd, TIOC.SWINSZ, encodeWinsize(size)), 'ioctl(TIOCSWINSZ)', `fd ${fd}`);
  }
  getWindowSize(fd: number): WindowSize {
    const buf = Buffer.alloc(8);
    check(libc().ioctlPtr(fd, TIOC.GWINSZ, buf), 'ioctl(TIOCGWINSZ)', `fd ${fd}`);
    return decodeWinsize(buf);
  }
  setControllingTerminal(fd: number): void {
    check(libc().ioctlInt(fd, TIOC.SCTTY, 0), 'ioctl(TIOCSCTTY)', `fd ${fd}`);
  }
}

let host: Syscall | undefined;

/**
 * The real Syscall for code at the edge that is not handed one (the daemon's lock, the image
 * unpacker, the exec client). Logic worth testing receives a Syscall instead.
 */
export function hostSyscall(): Syscall {
  host ??= new LinuxSyscall();
  return host;
}
