/**
 * The kernel calls that set up namespaces, mounts and credentials, behind one interface
 * (youki's `Syscall` trait). Logic that decides *what* to call receives a Syscall, so it can be
 * unit-tested with RecordingSyscall without root; LinuxSyscall makes the real calls.
 * Every method throws SyscallError naming the call and its key argument on failure.
 */

export interface CapabilitySets {
  effective: number[];
  permitted: number[];
  inheritable: number[];
}

/** struct winsize without the pixel fields (always 0). */
export interface WindowSize {
  rows: number;
  cols: number;
}

export interface Syscall {
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount2(target: string, flags: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  sethostname(name: string): void;
  /** setdomainname(2), in the calling thread's UTS namespace. */
  setdomainname(name: string): void;
  /** prlimit(2) on this process: soft and hard limit of an RLIMIT_* resource (-1 or more than 2^53: unlimited). */
  setrlimit(resource: number, soft: number, hard: number): void;
  /** Sets IFF_UP on a network interface of the calling thread's network namespace. */
  bringInterfaceUp(name: string): void;
  /** Creates a character device node (mode includes S_IFCHR). */
  mknod(path: string, mode: number, major: number, minor: number): void;
  chdir(path: string): void;
  setresuid(uid: number): void;
  setresgid(gid: number): void;
  setgroups(gids: number[]): void;
  /** Sets effective, permitted and inheritable sets of the calling thread. */
  capset(sets: CapabilitySets): void;
  /** Drops a capability from the bounding set. */
  dropBoundingCapability(bit: number): void;
  raiseAmbientCapability(bit: number): void;
  /** PR_CAP_AMBIENT_CLEAR_ALL: none ambient (util-linux unshare --keep-caps raised them all). */
  clearAmbientCapabilities(): void;
  /**
   * PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented to this process (minipod-oci
   * run waits for an init that util-linux forked, src/oci/executor/userns.ts).
   */
  setChildSubreaper(): void;
  setKeepCaps(on: boolean): void;
  setNoNewPrivileges(): void;
  setCloseOnExec(fd: number, on: boolean): void;
  /** Marks every descriptor from `fd` up close-on-exec (close_range with CLOSE_RANGE_CLOEXEC). */
  closeOnExecFrom(fd: number): void;
  /**
   * PR_SET_DUMPABLE. A non-dumpable process's /proc/PID/{exe,fd,cwd,root,environ,mem} are
   * closed to every process without CAP_SYS_PTRACE; execve makes it dumpable again.
   */
  setDumpable(on: boolean): void;
  /** Restores every signal to SIG_DFL and empties the mask (Node ignores SIGPIPE and SIGXFSZ). */
  resetSignals(): void;
  umask(mask: number): number;
  /**
   * Attaches a seccomp filter (classic BPF, 8 bytes an instruction) to the calling thread; the
   * kernel wants no_new_privs or CAP_SYS_ADMIN. The thread that execs keeps it.
   */
  loadSeccompFilter(program: Buffer, flags: number): void;
  /**
   * A detached, idmapped copy of the mount at `path` (open_tree(OPEN_TREE_CLONE) then
   * mount_setattr(MOUNT_ATTR_IDMAP) with the user namespace `usernsFd`), attached at `target`
   * (move_mount). Ownership seen through `target` is mapped by that namespace's id maps.
   */
  mountIdmapped(path: string, target: string, usernsFd: number): void;
  /** Only returns on failure, by throwing. */
  execve(path: string, argv: string[], envp: string[]): never;

  // ---- files and descriptors ----
  /**
   * flock(2), always non-blocking (callers poll, so the event loop keeps running): true when
   * taken (or released), false when another holder has it (EWOULDBLOCK).
   */
  flock(fd: number, operation: 'shared' | 'exclusive' | 'unlock'): boolean;
  /** pipe2(2) with O_CLOEXEC: [read end, write end]. */
  pipe(): [number, number];
  /** Sets or clears O_NONBLOCK on an open file. */
  setNonBlocking(fd: number, on: boolean): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** The xattr's value, or undefined when the file has none of that name (ENODATA). */
  lgetxattr(path: string, name: string): Buffer | undefined;
  /** Removes an xattr; one that is not there is not an error. */
  lremovexattr(path: string, name: string): void;

  // ---- unix sockets and descriptor passing ----
  /** socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC) connected to `path` (a console socket). */
  connectUnixSocket(path: string): number;
  /** A SOCK_STREAM socket bound to `path` and listening (close-on-exec). */
  listenUnixSocket(path: string): number;
  /** accept4(2), blocking, close-on-exec: the connected socket. */
  acceptConnection(listener: number): number;
  /**
   * sendmsg(2) of `data` with the descriptors in one SCM_RIGHTS message (src/syscall/cmsg.ts),
   * as runc's utils.SendFile hands a pty master to a console socket.
   */
  sendFds(socket: number, data: Buffer, fds: number[]): void;
  /** recvmsg(2): up to `maxData` bytes and the descriptors that came with them (close-on-exec). */
  receiveFds(socket: number, maxData: number): { data: Buffer; fds: number[] };
  /** close(2); EBADF (already closed) is not an error. */
  close(fd: number): void;
  /** dup2(2): `newFd` becomes a copy of `oldFd` (without close-on-exec). */
  dup2(oldFd: number, newFd: number): void;
  /**
   * waitid(P_PID, pid, WEXITED|WNOHANG): reaps the child `pid` if it has exited (its exit code,
   * or the signal that killed it), undefined while it runs. Only for a child that is not
   * Node's own (a reparented orphan): libuv reaps those it spawned.
   */
  reapExited(pid: number): { code: number | null; signal: number | null } | undefined;

  // ---- terminals ----
  /** TIOCSPTLCK 0: lets the slave of a new master be opened. */
  unlockPty(master: number): void;
  /** TIOCGPTPEER: opens a master's slave from the master itself, no path lookup. */
  openPtyPeer(master: number, flags: number): number;
  /** TIOCGPTN: the N of /dev/pts/N. */
  ptyNumber(master: number): number;
  /** TIOCSWINSZ: the kernel then sends SIGWINCH to the terminal's foreground group. */
  setWindowSize(fd: number, size: WindowSize): void;
  getWindowSize(fd: number): WindowSize;
  /** TIOCSCTTY: the caller must be a session leader without a controlling terminal. */
  setControllingTerminal(fd: number): void;
}
