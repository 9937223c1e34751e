/**
 * Pseudo-terminals without a native module: /dev/ptmx and a few ioctls through koffi.
 *
 * The pty is made on the container's own devpts instance (its /dev/pts is mounted with
 * `newinstance`), reached from the host through /proc/<pid>/root, so that inside the container
 * `tty` prints /dev/pts/N and the slave is one of its own. The master stays with the caller; the
 * slave becomes the exec'd process's fds 0-2 and, in the helper, its controlling terminal.
 */
import fs from 'node:fs';
import { O, TIOC } from '../../native-bindings/constants.js';
import { libc } from '../../native-bindings/libc.js';
import { SyscallError } from '../errors.js';

export interface Pty {
  master: number;
  slave: number;
}

export interface WindowSize {
  rows: number;
  cols: number;
}

/** Char device 5:2 is /dev/ptmx; devpts' own `ptmx` node has the same numbers. */
const PTMX_MAJOR = 5;
const PTMX_MINOR = 2;

function check(result: number, call: string, detail?: string): number {
  if (result === -1) throw new SyscallError(call, libc().errno(), detail);
  return result;
}

/** Where to open the container's ptmx: its devpts instance, seen through its root. */
export function containerPtmxPath(pid: number): string {
  return `/proc/${pid}/root/dev/pts/ptmx`;
}

/**
 * Opens a new pty on the devpts instance of `ptmxPath`. The path lies in a tree the container
 * controls, so the opened file is checked to really be a ptmx before it is trusted.
 */
export function openPty(ptmxPath = '/dev/ptmx'): Pty {
  const master = fs.openSync(ptmxPath, O.RDWR | O.NOCTTY | O.NOFOLLOW | O.CLOEXEC | O.NONBLOCK);
  try {
    const st = fs.fstatSync(master);
    const major = Math.floor(st.rdev / 256) & 0xfff;
    const minor = st.rdev & 0xff;
    if (!st.isCharacterDevice() || major !== PTMX_MAJOR || minor !== PTMX_MINOR) {
      throw new Error(`${ptmxPath} is not a pty multiplexer`);
    }
    const unlock = Buffer.alloc(4); // int 0: unlock the slave
    check(libc().ioctlPtr(master, TIOC.SPTLCK, unlock), 'ioctl(TIOCSPTLCK)', ptmxPath);
    // TIOCGPTPEER opens the slave from the master itself: no path lookup in the container's tree.
    const slave = check(libc().ioctlInt(master, TIOC.GPTPEER, O.RDWR | O.NOCTTY | O.CLOEXEC), 'ioctl(TIOCGPTPEER)', ptmxPath);
    return { master, slave };
  } catch (err) {
    fs.closeSync(master);
    throw err;
  }
}

/** The number N of /dev/pts/N for a master. */
export function ptyNumber(master: number): number {
  const buf = Buffer.alloc(4);
  check(libc().ioctlPtr(master, TIOC.GPTN, buf), 'ioctl(TIOCGPTN)');
  return buf.readUInt32LE(0);
}

/** struct winsize {ws_row, ws_col, ws_xpixel, ws_ypixel}, four unsigned shorts. */
export function encodeWinsize(size: WindowSize): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt16LE(clampShort(size.rows), 0);
  buf.writeUInt16LE(clampShort(size.cols), 2);
  return buf;
}

export function decodeWinsize(buf: Buffer): WindowSize {
  return { rows: buf.readUInt16LE(0), cols: buf.readUInt16LE(2) };
}

function clampShort(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 0xffff) : 0;
}

/** Sets the terminal size; the kernel sends SIGWINCH to the pty's foreground process group. */
export function setWindowSize(fd: number, size: WindowSize): void {
  check(libc().ioctlPtr(fd, TIOC.SWINSZ, encodeWinsize(size)), 'ioctl(TIOCSWINSZ)');
}

export function getWindowSize(fd: number): WindowSize {
  const buf = Buffer.alloc(8);
  check(libc().ioctlPtr(fd, TIOC.GWINSZ, buf), 'ioctl(TIOCGWINSZ)');
  return decodeWinsize(buf);
}

/**
 * Makes `fd` the calling process's controlling terminal. The caller must be a session leader
 * without one (helpers are spawned detached, so they are).
 */
export function makeControllingTerminal(fd: number): void {
  check(libc().ioctlInt(fd, TIOC.SCTTY, 0), 'ioctl(TIOCSCTTY)');
}
