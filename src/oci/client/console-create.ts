/**
 * create's `--console-socket` (runc's): the seam in src/oci/executor/create.ts. A container with
 * `process.terminal` needs a console socket, and a console socket needs a terminal (runc's
 * two errors). The socket is connected by create (its path is the caller's, outside the
 * container) and handed to the helper as fd 4, which does the rest once the container's root
 * is set up (src/process/console.ts, attachConsole).
 */
import { UserError } from '../../errors.js';
import type { ContainerPlan } from '../../plan/types.js';
import type { Syscall } from '../../syscall/syscall.js';

/** Where the helper finds the console socket: the first of spawnHelper's extraFds. */
export const CONSOLE_SOCKET_FD = 4;

export function checkConsoleRequest(terminal: boolean, consoleSocket: string | undefined): void {
  if (terminal && !consoleSocket) {
    throw new UserError('process.terminal is true: a terminal needs --console-socket (minipod-oci does not relay one itself)');
  }
  if (!terminal && consoleSocket) throw new UserError('--console-socket: cannot use a console socket when process.terminal is false');
}

export function connectConsole(sys: Syscall, socketPath: string): number {
  try {
    return sys.connectUnixSocket(socketPath);
  } catch (err) {
    throw new UserError(`--console-socket ${socketPath}: ${(err as Error).message}`, { cause: err });
  }
}

/** process.consoleSize (height x width) as the plan's pty size. */
export function consolePlan(size: { height: number; width: number } | undefined): NonNullable<ContainerPlan['console']> {
  const plan: NonNullable<ContainerPlan['console']> = { socketFd: CONSOLE_SOCKET_FD };
  if (size && size.height > 0 && size.width > 0) plan.size = { rows: size.height, cols: size.width };
  return plan;
}
