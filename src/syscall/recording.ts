/**
 * A Syscall that records every call instead of making it (youki's TestHelperSyscall), so
 * namespace, mount and credential logic is unit-tested without root. `failNext` injects an
 * errno into the next matching call(s).
 */
import { SyscallError } from '../errors.js';
import type { CapabilitySets, Syscall, WindowSize } from './syscall.js';
import { encodeRightsControl } from './cmsg.js';

export interface RecordedCall {
  name: keyof Syscall;
  args: unknown[];
}

export class ExecveCalled extends Error {
  constructor(
    readonly path: string,
    readonly argv: string[],
    readonly envp: string[],
  ) {
    super(`execve ${path}`);
  }
}

export class RecordingSyscall implements Syscall {
  readonly calls: RecordedCall[] = [];
  private failures: { name: keyof Syscall; errno: number; times: number; match?: (args: unknown[]) => boolean }[] = [];

  /** Makes the next `times` calls of `name` (whose args satisfy `match`) fail with errno. */
  failNext(name: keyof Syscall, errno: number, times = 1, match?: (args: unknown[]) => boolean): void {
    this.failures.push({ name, errno, times, match });
  }

  callsOf(name: keyof Syscall): unknown[][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args);
  }

  private record(name: keyof Syscall, ...args: unknown[]): void {
    this.calls.push({ name, args });
    const failure = this.failures.find((f) => f.name === name && f.times > 0 && (!f.match || f.match(args)));
    if (failure) {
      failure.times--;
      // The detail the real one gives where tests read it (mount: `<fstype> on <target>`).
      const detail =
        name === 'mount' ? `${String(args[2] ?? args[0] ?? 'none')} on ${String(args[1])}` : args.length ? String(args[0]) : undefined;
      throw new SyscallError(name, failure.errno, detail);
    }
  }

  unshare(flags: number): void {
    this.record('unshare', flags);
  }
  setns(fd: number, nstype: number): void {
    this.record('setns', fd, nstype);
  }
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
    this.record('mount', source, target, fstype, flags, data);
  }
  umount2(target: string, flags: number): void {
    this.record('umount2', target, flags);
  }
  pivotRoot(newRoot: string, putOld: string): void {
    this.record('pivotRoot', newRoot, putOld);
  }
  sethostname(name: string): void {
    this.record('sethostname', name);
  }
  setdomainname(name: string): void {
    this.record('setdomainname', name);
  }
  setrlimit(resource: number, soft: number, hard: number): void {
    this.record('setrlimit', resource, soft, hard);
  }
  bringInterfaceUp(name: string): void {
    this.record('bringInterfaceUp', name);
  }
  mknod(path: string, mode: number, major: number, minor: number): void {
    this.record('mknod', path, mode, major, minor);
  }
  chdir(path: string): void {
    this.record('chdir', path);
  }
  setresuid(uid: number): void {
    this.record('setresuid', uid);
  }
  setresgid(gid: number): void {
    this.record('setresgid', gid);
  }
  setgroups(gids: number[]): void {
    this.record('setgroups', gids);
  }
  capset(sets: CapabilitySets): void {
    this.record('capset', sets);
  }
  dropBoundingCapability(bit: number): void {
    this.record('dropBoundingCapability', bit);
  }
  raiseAmbientCapability(bit: number): void {
    this.record('raiseAmbientCapability', bit);
  }
  clearAmbientCapabilities(): void {
    this.record('clearAmbientCapabilities');
  }
  reapExited(pid: number): { code: number | null; signal: number | null } | undefined {
    this.record('reapExited', pid);
    return undefined;
  }
  setChildSubreaper(): void {
    this.record('setChildSubreaper');
  }
  setKeepCaps(on: boolean): void {
    this.record('setKeepCaps', on);
  }
  setNoNewPrivileges(): void {
    this.record('setNoNewPrivileges');
  }
  setCloseOnExec(fd: number, on: boolean): void {
    this.record('setCloseOnExec', fd, on);
  }
  closeOnExecFrom(fd: number): void {
    this.record('closeOnExecFrom', fd);
  }
  setDumpable(on: boolean): void {
    this.record('setDumpable', on);
  }
  resetSignals(): void {
    this.record('resetSignals');
  }
  umask(mask: number): number {
    this.record('umask', mask);
    return 0o022;
  }
  loadSeccompFilter(program: Buffer, flags: number): void {
    this.record('loadSeccompFilter', program.length / 8, flags);
  }
  mountIdmapped(path: string, target: string, usernsFd: number): void {
    this.record('mountIdmapped', path, target, usernsFd);
  }
  execve(path: string, argv: string[], envp: string[]): never {
    this.record('execve', path, argv, envp);
    throw new ExecveCalled(path, argv, envp);
  }
  flock(fd: number, operation: 'shared' | 'exclusive' | 'unlock'): boolean {
    this.record('flock', fd, operation);
    return true;
  }
  private nextFd = 100;
  pipe(): [number, number] {
    this.record('pipe');
    return [this.nextFd++, this.nextFd++];
  }
  setNonBlocking(fd: number, on: boolean): void {
    this.record('setNonBlocking', fd, on);
  }
  lsetxattr(path: string, name: string, value: Buffer): void {
    this.record('lsetxattr', path, name, value);
  }
  lgetxattr(path: string, name: string): Buffer | undefined {
    this.record('lgetxattr', path, name);
    return undefined;
  }
  lremovexattr(path: string, name: string): void {
    this.record('lremovexattr', path, name);
  }
  connectUnixSocket(path: string): number {
    this.record('connectUnixSocket', path);
    return this.nextFd++;
  }
  listenUnixSocket(path: string): number {
    this.record('listenUnixSocket', path);
    return this.nextFd++;
  }
  acceptConnection(listener: number): number {
    this.record('acceptConnection', listener);
    return this.nextFd++;
  }
  /** Recorded as (socket, data, fds, control): the control buffer the real call would send. */
  sendFds(socket: number, data: Buffer, fds: number[]): void {
    this.record('sendFds', socket, Buffer.from(data), [...fds], encodeRightsControl(fds));
  }
  /** What receiveFds returns next, in order; empty data and no fds once used up. */
  readonly incoming: { data: Buffer; fds: number[] }[] = [];
  receiveFds(socket: number, maxData: number): { data: Buffer; fds: number[] } {
    this.record('receiveFds', socket, maxData);
    return this.incoming.shift() ?? { data: Buffer.alloc(0), fds: [] };
  }
  close(fd: number): void {
    this.record('close', fd);
  }
  dup2(oldFd: number, newFd: number): void {
    this.record('dup2', oldFd, newFd);
  }
  unlockPty(master: number): void {
    this.record('unlockPty', master);
  }
  openPtyPeer(master: number, flags: number): number {
    this.record('openPtyPeer', master, flags);
    return this.nextFd++;
  }
  ptyNumber(master: number): number {
    this.record('ptyNumber', master);
    return 0;
  }
  private sizes = new Map<number, WindowSize>();
  setWindowSize(fd: number, size: WindowSize): void {
    this.record('setWindowSize', fd, size);
    this.sizes.set(fd, { ...size });
  }
  getWindowSize(fd: number): WindowSize {
    this.record('getWindowSize', fd);
    return this.sizes.get(fd) ?? { rows: 24, cols: 80 };
  }
  setControllingTerminal(fd: number): void {
    this.record('setControllingTerminal', fd);
  }
}
