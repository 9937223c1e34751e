/**
 * `--console-socket`: runc's way of giving a container's terminal to its caller (conmon, the
 * containerd shim). The runtime makes a pty on the container's own devpts, connects to the unix
 * socket the caller listens on and sends the master there in one SCM_RIGHTS message, whose
 * payload is the pty's name (runc's utils.SendFile; conmon and go-runc read one message with one
 * descriptor). The slave becomes the process's fds 0-2 and its controlling terminal; the
 * runtime keeps no copy of the master, so the caller alone holds the terminal.
 */
import type { Syscall, WindowSize } from '../syscall/syscall.js';
import { openPty, type Pty } from './pty.js';

/** `/dev/pts/N`, what the master is sent with (runc sends the pty's name too). */
export function ptyName(sys: Syscall, master: number): string {
  return `/dev/pts/${sys.ptyNumber(master)}`;
}

/** Connects to the caller's console socket and sends it the master. Throws naming the socket. */
export function sendConsoleMaster(sys: Syscall, socketPath: string, master: number): void {
  const socket = sys.connectUnixSocket(socketPath);
  try {
    sendMasterOn(sys, socket, master);
  } finally {
    sys.close(socket);
  }
}

/** Sends the master on a socket that is already connected (a helper got it from its caller). */
export function sendMasterOn(sys: Syscall, socket: number, master: number): void {
  // runc's master is a blocking file; a receiver that reads it plainly must not get EAGAIN.
  sys.setNonBlocking(master, false);
  sys.sendFds(socket, Buffer.from(ptyName(sys, master), 'utf8'), [master]);
}

export interface AttachConsoleOptions {
  /** A connected console socket (the caller connected before it spawned us). */
  socket: number;
  /** ptmx of the container's devpts, inside its root once pivoted. */
  ptmxPath?: string;
  /** process.consoleSize: set before the master leaves, so the program never sees 0x0. */
  size?: WindowSize;
}

/**
 * In the container's process, after its root is set up and before execve: a pty on the
 * container's devpts, the master sent over the console socket (then closed here, with the
 * socket), the slave on fds 0-2 and made the controlling terminal (we are a session leader
 * without one: helpers start in a session of their own).
 */
export function attachConsole(sys: Syscall, o: AttachConsoleOptions): void {
  const pty: Pty = openPty(o.ptmxPath ?? '/dev/pts/ptmx', sys);
  try {
    if (o.size && o.size.rows > 0 && o.size.cols > 0) sys.setWindowSize(pty.master, o.size);
    sendMasterOn(sys, o.socket, pty.master);
  } catch (err) {
    sys.close(pty.slave);
    throw err;
  } finally {
    sys.close(pty.master);
    sys.close(o.socket);
  }
  for (const fd of [0, 1, 2]) sys.dup2(pty.slave, fd);
  sys.close(pty.slave);
  sys.setControllingTerminal(0);
}
