/**
 * exec: a new process in a running container. A helper (src/process/helper-main.ts) is spawned
 * into the namespaces of the container's process (pid, net, ipc, uts: with
 * shareProcessNamespace false that is the container's own PID namespace), then receives an
 * ExecPlan: it joins the container's mount namespace and cgroup, takes on its user and
 * capabilities and execs. The helper is detached (its own session): it can take a pty as its
 * controlling terminal, and a Ctrl-C meant for the caller is forwarded by the caller.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ExitCode, UserError } from '../errors.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import type { MinipodPaths } from '../paths.js';
import type { ProcessSpec } from '../plan/types.js';
import { HelperFailed, type Helper, sendPlan } from '../process/helper-client.js';
import type { Syscall } from '../syscall/syscall.js';
import { buildExecPlan } from './plan.js';
import { containerPtmxPath, openPty, type Pty, setWindowSize, type WindowSize } from './pty.js';
import { type ExecTarget, resolveExecTarget } from './target.js';

const HELPER_SCRIPT = fileURLToPath(new URL('../process/helper-main.js', import.meta.url));

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
};

export interface ExecOptions {
  paths: MinipodPaths;
  sys: Syscall;
  pod: string;
  container: string;
  argv: string[];
  /** `K=V` entries added to, or replacing, the container's environment. */
  env?: string[];
  user?: ProcessSpec['user'];
  cwd?: string;
  /** inherit: the process writes straight to our stdout/stderr; pipe: the caller reads them. */
  stdio: 'inherit' | 'pipe';
  /** Give the process our stdin (inherit) or a stdin pipe (pipe); otherwise /dev/null. */
  stdin: boolean;
  /** A pseudo-terminal on fds 0-2; the caller relays `master`. */
  tty: boolean;
  /** Initial pty size, set before the process starts so it never sees 0x0. */
  windowSize?: WindowSize;
  /** Skip the state lookup (the supervisor already knows the container). */
  target?: ExecTarget;
}

export interface ExecProcess {
  /** Host pid of the exec'd process. */
  pid: number;
  child: ChildProcess;
  /** The pty master (tty only): the caller relays and closes it. */
  master?: number;
  /** Exit status, signals as 128+N, like a shell. */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1);
}

function stdioFor(o: ExecOptions, pty: Pty | undefined): StdioOptions {
  if (pty) return [pty.slave, pty.slave, pty.slave, 'pipe'];
  if (o.stdio === 'inherit') return [o.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit', 'pipe'];
  return [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'];
}

function notRunning(t: ExecTarget, err: unknown): UserError {
  return new UserError(`container "${t.container}" of pod "${t.pod}" is not running (${(err as Error).message})`, {
    code: 'container.not-running',
    cause: err,
  });
}

/**
 * Starts the process and resolves once it has exec'd. Rejects with a UserError (exit code 126
 * or 127 when the command cannot run or is not there, as podman exec) otherwise.
 */
export async function execInContainer(o: ExecOptions): Promise<ExecProcess> {
  const target = o.target ?? resolveExecTarget(o.paths, o.pod, o.container);
  const id = `${target.pod}/${target.container}`;
  const plan = buildExecPlan(id, target.pid, target.record, {
    argv: o.argv,
    env: o.env,
    user: o.user,
    cwd: o.cwd,
    terminal: o.tty,
  });

  let pty: Pty | undefined;
  if (o.tty) {
    try {
      pty = openPty(containerPtmxPath(target.pid));
    } catch (err) {
      if (!fs.existsSync(`/proc/${target.pid}`)) throw notRunning(target, err);
      throw new UserError(`${id}: cannot open a pseudo-terminal in the container: ${(err as Error).message}`, { cause: err });
    }
    if (o.windowSize) setWindowSize(pty.master, o.windowSize);
  }

  let child: ChildProcess;
  try {
    child = spawnInNamespaces(
      o.sys,
      { create: [], join: { pid: target.pid, namespaces: ['pid', 'net', 'ipc', 'uts'] } },
      () => spawn(process.execPath, [HELPER_SCRIPT], { stdio: stdioFor(o, pty), detached: true, env: {} }),
    );
  } catch (err) {
    if (pty) fs.closeSync(pty.master);
    throw notRunning(target, err);
  } finally {
    // The child has its copy; ours would keep the pty open after the process is gone.
    if (pty) fs.closeSync(pty.slave);
  }
  if (child.pid === undefined) {
    if (pty) fs.closeSync(pty.master);
    throw new Error('could not start a helper process');
  }
  const pid = child.pid;
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitStatus(code, signal))));
  const helper: Helper = { child, pid, control: child.stdio[3] as Socket, stdout: child.stdout, stderr: child.stderr };
  try {
    await sendPlan(helper, plan);
  } catch (err) {
    if (pty) fs.closeSync(pty.master);
    await exited;
    if (err instanceof HelperFailed) {
      const exitCode = err.exitCode === ExitCode.cannotExecute || err.exitCode === ExitCode.notFound ? err.exitCode : ExitCode.runtime;
      throw new UserError(`${id}: ${err.message}`, { code: 'exec.failed', exitCode, cause: err });
    }
    throw err;
  }
  // child.kill does nothing once Node has reaped the process, so a recycled pid is safe.
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => void child.kill(signal);
  return { pid, child, master: pty?.master, exited, kill };
}
