/**
 * Pseudo-terminals without a native module: /dev/ptmx and a few ioctls through the Syscall seam.
 *
 * The pty is made on the container's own devpts instance (its /dev/pts is mounted with
 * `newinstance`), reached from the host through /proc/<pid>/root, so that inside the container
 * `tty` prints /dev/pts/N and the slave is one of its own. The master stays with the caller; the
 * slave becomes the exec'd process's fds 0-2 and, in the helper, its controlling terminal.
 */
import fs from 'node:fs';
import { O } from '../../native-bindings/constants.js';
import { hostSyscall } from '../syscall/linux.js';
import type { Syscall, WindowSize } from '../syscall/syscall.js';
import { HostError } from '../errors.js';

export type { WindowSize } from '../syscall/syscall.js';
export { decodeWinsize, encodeWinsize } from '../syscall/winsize.js';

export interface Pty {
  master: number;
  slave: number;
}

/** Char device 5:2 is /dev/ptmx; devpts' own `ptmx` node has the same numbers. */
const PTMX_MAJOR = 5;
const PTMX_MINOR = 2;

/** Where to open the container's ptmx: its devpts instance, seen through its root. */
export function containerPtmxPath(pid: number): string {
  return `/proc/${pid}/root/dev/pts/ptmx`;
}

/**
 * Opens a new pty on the devpts instance of `ptmxPath`. The path lies in a tree the container
 * controls, so the opened file is checked to really be a ptmx before it is trusted.
 */
export function openPty(ptmxPath = '/dev/ptmx', sys: Syscall = hostSyscall()): Pty {
  const master = fs.openSync(ptmxPath, O.RDWR | O.NOCTTY | O.NOFOLLOW | O.CLOEXEC | O.NONBLOCK);
  try {
    const st = fs.fstatSync(master);
    const major = Math.floor(st.rdev / 256) & 0xfff;
    const minor = st.rdev & 0xff;
    if (!st.isCharacterDevice() || major !== PTMX_MAJOR || minor !== PTMX_MINOR) {
      throw new HostError(`${ptmxPath} is not a pty multiplexer`, { hint: "the container's /dev/pts (a devpts mount with ptmx)" });
    }
    sys.unlockPty(master);
    // TIOCGPTPEER opens the slave from the master itself: no path lookup in the container's tree.
    const slave = sys.openPtyPeer(master, O.RDWR | O.NOCTTY | O.CLOEXEC);
    return { master, slave };
  } catch (err) {
    fs.closeSync(master);
    throw err;
  }
}

/** The number N of /dev/pts/N for a master. */
export function ptyNumber(master: number, sys: Syscall = hostSyscall()): number {
  return sys.ptyNumber(master);
}

/** Sets the terminal size; the kernel sends SIGWINCH to the pty's foreground process group. */
export function setWindowSize(fd: number, size: WindowSize, sys: Syscall = hostSyscall()): void {
  sys.setWindowSize(fd, size);
}

export function getWindowSize(fd: number, sys: Syscall = hostSyscall()): WindowSize {
  return sys.getWindowSize(fd);
}
