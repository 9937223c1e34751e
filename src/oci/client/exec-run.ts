/**
 * Running an `exec` process in an OCI container, through the project's exec path (the helper
 * of src/process with an ExecPlan): the helper is spawned into the init's pid, network, IPC
 * and UTS namespaces (and its user namespace through nsenter), then joins its mount and cgroup
 * namespaces and its cgroups itself, takes the process's credentials, capabilities, seccomp
 * filter and execs. The process is our child, so a subreaper that called us (conmon, the
 * containerd shim) inherits and reaps it when we return early (`--detach`).
 */
import fs from 'node:fs';
import { planPreservedFds } from '../../process/preserve-fds.js';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { exitStatus } from '../../exec/index.js';
import { relayTerminal, terminalSize } from '../../exec/relay.js';
import { type NamespaceEntry, type SharedNamespace, spawnInNamespaces } from '../../namespaces/pod-namespaces.js';
import type { ExecPlan, ProcessSpec } from '../../plan/types.js';
import { sendConsoleMaster } from '../../process/console.js';
import { type Helper, HelperFailed, sendPlan, spawnHelper } from '../../process/helper-client.js';
import { containerPtmxPath, openPty, type Pty } from '../../process/pty.js';
import type { Syscall, WindowSize } from '../../syscall/syscall.js';

export interface OciExecRequest {
  id: string;
  /** Host pid of the container's init: the namespaces to join. */
  initPid: number;
  /** cgroup.procs of the container's cgroup in every hierarchy. */
  cgroupProcs: string[];
  process: ProcessSpec;
  tty: boolean;
  /** process.consoleSize of --process, else the caller's terminal (tty without a socket). */
  consoleSize?: WindowSize;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  /** --preserve-fds N: our fds 3..3+N-1 become the process's (src/process/preserve-fds.ts). */
  preserveFds?: number;
}

const SPAWN_NAMESPACES: SharedNamespace[] = ['pid', 'net', 'ipc', 'uts'];

function nsInode(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

/** The init's namespace of this type when it is not ours (joining our own is a no-op, or EINVAL for user). */
export function foreignNamespace(initPid: number, ns: string, procRoot = '/proc'): string | undefined {
  const theirs = `${procRoot}/${initPid}/ns/${ns}`;
  const ino = nsInode(theirs);
  if (ino === undefined) throw new UserError(`container not running: ${theirs} is gone`, { code: 'oci.not-running' });
  return ino === nsInode(`${procRoot}/self/ns/${ns}`) ? undefined : theirs;
}

/** runc's createPidFile: written beside, then renamed, so a reader never sees it half-written. */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}`);
  fs.writeFileSync(tmp, String(pid));
  fs.renameSync(tmp, abs);
}

function openContainerPty(sys: Syscall, initPid: number, size: WindowSize | undefined): Pty {
  let pty: Pty;
  try {
    pty = openPty(containerPtmxPath(initPid), sys);
  } catch (err) {
    throw new UserError(`cannot open a pseudo-terminal in the container: ${(err as Error).message}`, { cause: err });
  }
  if (size && size.rows > 0 && size.cols > 0) sys.setWindowSize(pty.master, size);
  return pty;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Starts the process; resolves with exec's exit code (the process's, or 0 once started with --detach). */
export async function runOciExec(sys: Syscall, r: OciExecRequest): Promise<number> {
  if (r.tty && r.detach && !r.consoleSocket) {
    throw new UserError('cannot allocate tty if minipod-oci will detach without setting console socket');
  }
  if (!r.tty && r.consoleSocket) throw new UserError('cannot use console socket if minipod-oci will not allocate tty');
  const join = SPAWN_NAMESPACES.filter((ns) => foreignNamespace(r.initPid, ns) !== undefined);
  const userNamespace = foreignNamespace(r.initPid, 'user');
  const mountNamespace = foreignNamespace(r.initPid, 'mnt');
  const cgroupNamespace = foreignNamespace(r.initPid, 'cgroup');
  const plan: ExecPlan = {
    kind: 'exec',
    id: r.id,
    // The helper always setns()es into this one; our own is harmless when the container shares it.
    mountNamespace: mountNamespace ?? `/proc/${r.initPid}/ns/mnt`,
    process: r.process,
    cgroupProcs: userNamespace ? [] : [...r.cgroupProcs],
  };
  if (cgroupNamespace) plan.cgroupNamespace = cgroupNamespace;
  if (r.tty) plan.terminal = true;
  const preserved = planPreservedFds(r.preserveFds ?? 0, 0, (fd) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  });
  if (preserved.plan) plan.preserveFds = preserved.plan;

  const size = r.consoleSize ?? (r.tty && !r.consoleSocket ? terminalSize(process.stdout) : undefined);
  const pty = r.tty ? openContainerPty(sys, r.initPid, size) : undefined;
  const entry: NamespaceEntry = { create: [], join: join.length > 0 ? { pid: r.initPid, namespaces: join } : null };
  let helper: Helper;
  try {
    helper = spawnInNamespaces(sys, entry, () =>
      spawnHelper({ stdin: true, stdio: pty ? { terminal: pty.slave } : 'inherit', userNamespace, extraFds: preserved.pass }),
    );
  } catch (err) {
    if (pty) sys.close(pty.master);
    throw new UserError(`container not running: cannot enter its namespaces (${(err as Error).message})`, { cause: err });
  } finally {
    if (pty) sys.close(pty.slave);
  }
  const { child, pid } = helper;
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(exitStatus(code, signal))));
  try {
    // A pod in a user namespace cannot write the host's cgroup files: join it from here.
    if (userNamespace) for (const file of r.cgroupProcs) fs.writeFileSync(file, String(pid));
    // The master leaves before the program runs, so the caller holds the terminal from its start.
    if (pty && r.consoleSocket) {
      try {
        sendConsoleMaster(sys, r.consoleSocket, pty.master);
      } finally {
        sys.close(pty.master);
      }
    }
    await sendPlan(helper, plan);
  } catch (err) {
    if (pty && !r.consoleSocket) sys.close(pty.master);
    child.kill('SIGKILL');
    await exited;
    if (err instanceof HelperFailed) throw new UserError(err.message, { exitCode: err.exitCode, cause: err });
    throw err;
  }
  if (r.pidFile) writePidFile(r.pidFile, pid);
  if (r.detach) {
    // Our caller (a subreaper) inherits the process when we exit.
    child.unref();
    helper.control.destroy();
    return 0;
  }
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    if (pty && !r.consoleSocket) {
      return await relayTerminal({ master: pty.master, input: process.stdin, output: process.stdout, exited });
    }
    return await exited;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
