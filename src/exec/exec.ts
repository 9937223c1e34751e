/**
 * exec: a new process in a running container. A helper (src/process/helper-main.ts) is spawned
 * into the namespaces of the container's process (pid, net, ipc, uts: with
 * shareProcessNamespace false that is the container's own PID namespace), then receives an
 * ExecPlan: it joins the container's mount namespace and cgroup, takes on its user and
 * capabilities and execs. The helper is detached (its own session): it can take a pty as its
 * controlling terminal, and a Ctrl-C meant for the caller is forwarded by the caller.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import fs from 'node:fs';
import { ExitCode, UserError, withContext } from '../errors.js';
import { spawnInNamespaces } from '../namespaces/pod-namespaces.js';
import type { MinipodPaths } from '../paths.js';
import type { ExecPlan, ProcessSpec } from '../plan/types.js';
import { exitStatus } from '../process/exit-status.js';
import { HelperFailed, type Helper, sendPlan, spawnHelper } from '../process/helper-client.js';
import type { Syscall } from '../syscall/syscall.js';
import { buildExecPlan } from '../plan/exec.js';
import { containerPtmxPath, openPty, type Pty, setWindowSize, type WindowSize } from '../process/pty.js';
import { type ExecTarget, resolveExecTarget } from './target.js';

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
  /** Output pipes with stdio 'pipe'; null otherwise. */
  stdout: Readable | null;
  stderr: Readable | null;
  /** The pty master (tty only): the caller relays and closes it. */
  master?: number;
  /** Exit status, signals as 128+N, like a shell. */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

export { exitStatus };

function notRunning(t: ExecTarget, err: unknown): UserError {
  return new UserError(`container "${t.container}" of pod "${t.pod}" is not running (${(err as Error).message})`, {
    code: 'container.not-running',
    cause: err,
  });
}

function joinCgroupsFromHost(plan: ExecPlan, pid: number): ExecPlan {
  for (const file of plan.cgroupProcs) fs.writeFileSync(file, String(pid));
  return { ...plan, cgroupProcs: [] };
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

  let helper: Helper;
  try {
    helper = spawnInNamespaces(o.sys, { create: [], join: { pid: target.pid, namespaces: ['pid', 'net', 'ipc', 'uts'] } }, () =>
      spawnHelper({
        stdin: o.stdin,
        stdio: pty ? { terminal: pty.slave } : o.stdio,
        userNamespace: target.state.userNamespace ? `/proc/${target.pid}/ns/user` : undefined,
      }),
    );
  } catch (err) {
    if (pty) fs.closeSync(pty.master);
    throw notRunning(target, err);
  } finally {
    // The child has its copy; ours would keep the pty open after the process is gone.
    if (pty) fs.closeSync(pty.slave);
  }
  const { child, pid } = helper;
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitStatus(code, signal))));
  try {
    // The pod's root cannot write the host's cgroup files: join the helper from here.
    await sendPlan(helper, target.state.userNamespace ? joinCgroupsFromHost(plan, pid) : plan);
  } catch (err) {
    if (pty) fs.closeSync(pty.master);
    await exited;
    if (err instanceof HelperFailed && err.kind === 'host') throw withContext(id, err);
    if (err instanceof HelperFailed) {
      const exitCode = err.exitCode === ExitCode.cannotExecute || err.exitCode === ExitCode.notFound ? err.exitCode : ExitCode.runtime;
      throw new UserError(`${id}: ${err.message}`, { code: 'exec.failed', exitCode, cause: err });
    }
    throw err;
  }
  // child.kill does nothing once Node has reaped the process, so a recycled pid is safe.
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): void => void child.kill(signal);
  return { pid, child, stdout: helper.stdout, stderr: helper.stderr, master: pty?.master, exited, kill };
}
