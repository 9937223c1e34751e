/**
 * The helper: a fresh Node process the supervisor spawns *into* the pod's PID, network, IPC and
 * UTS namespaces. It reads one plan from its control socket (fd 3), builds its own mount
 * namespace and root, joins its cgroup, drops privileges and execve()s the container's program,
 * so the container keeps the helper's PID. Node cannot fork safely, so this is how we get a
 * clean process in the right namespaces (see docs/architecture.md, "helper protocol").
 *
 * The protocol on fd 3 (a socketpair, made close-on-exec before execve) is in protocol.ts.
 * Only synchronous calls after unshare(CLONE_NEWNS): libuv's pool threads stay in the host's
 * mount namespace and would see the host's files.
 */
import fs from 'node:fs';
import { CLONE } from '../../native-bindings/constants.js';
import { ExitCode, HostError, hostErrorOf, UserError } from '../errors.js';
import type { ContainerPlan, ExecPlan, HelperPlan, PodInitPlan, PreservedFds } from '../plan/types.js';
import { enterCgroupView } from '../rootfs/cgroup-view.js';
import { applyLsmLabels } from '../lsm/apply.js';
import { setupRootfs } from '../rootfs/mount-rootfs.js';
import { pivotIntoPodInitRoot, POD_INIT_PATH, setupPodInitRoot } from '../rootfs/pod-init-root.js';
import { LinuxSyscall } from '../syscall/linux.js';
import type { Syscall } from '../syscall/syscall.js';
import { attachConsole } from './console.js';
import { applyCredentials, becomeNamespaceRoot, resolveUser } from './credentials.js';
import { preservedFdMoves } from './preserve-fds.js';
import { lookupExecutable } from './exec-lookup.js';
import { awaitStart, containerSettings, finishCreate, ociBeforePivot, openExecFifo, setRlimits } from './oci-steps.js';
import { setNice } from './priority.js';
import { CONTROL_FD, encodeMessage, parsePlan } from './protocol.js';

function readPlan(sys: Syscall): HelperPlan {
  // libuv leaves our end of the socketpair non-blocking; readSync would spin on EAGAIN.
  sys.setNonBlocking(CONTROL_FD, false);
  try {
    // /proc is still the host's: its `self` is our host pid, whatever pid namespace we are in.
    fs.writeSync(CONTROL_FD, encodeMessage({ type: 'ready', pid: Number(fs.readlinkSync('/proc/self')) }));
  } catch {
    process.exit(ExitCode.runtime); // The supervisor is gone.
  }
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(CONTROL_FD, buf, 0, buf.length, null);
    if (n === 0) process.exit(ExitCode.runtime); // The supervisor went away before sending a plan.
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0) {
      chunks.push(Buffer.from(buf.subarray(0, nl)));
      break;
    }
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return parsePlan(Buffer.concat(chunks).toString('utf8'));
}

function openCgroupProcs(files: string[]): number[] {
  return files.map((f) => fs.openSync(f, 'w'));
}

function joinCgroups(fds: number[]): void {
  const pid = String(process.pid);
  for (const fd of fds) {
    fs.writeSync(fd, pid);
    fs.closeSync(fd);
  }
}

/** Set once fd 3 was handed to the program's preserved descriptors (prepareExec). */
let controlGone = false;

/**
 * Everything a raw execve needs that Node took away: stdio without CLOEXEC, default signals.
 * Every other descriptor, whoever opened it (us, Node, koffi, whoever ran minipod), is closed
 * by the execve (CVE-2024-21626: a leaked host descriptor is a way out of the root).
 */
function prepareExec(sys: Syscall, umask = 0o022, preserved?: PreservedFds): void {
  sys.closeOnExecFrom(CONTROL_FD);
  for (const fd of [0, 1, 2]) sys.setCloseOnExec(fd, false);
  if (preserved && preserved.count > 0) {
    // From here fd 3 is the caller's, no longer our control socket: a failure goes to stderr.
    controlGone = true;
    for (const [from, to] of preservedFdMoves(preserved)) sys.dup2(from, to);
  }
  sys.resetSignals();
  sys.umask(umask);
}

function ensureCwd(cwd: string): void {
  try {
    if (!fs.statSync(cwd).isDirectory()) throw new UserError(`workingDir ${cwd}: not a directory`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    fs.mkdirSync(cwd, { recursive: true, mode: 0o755 });
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * CVE-2024-21626: a working directory reached through a descriptor (`/proc/self/fd/N`) can be
 * a directory outside the container's root; getcwd then answers "(unreachable)/...", which
 * realpath(3) turns into an error. Node's process.cwd() is cached, so ask the kernel.
 */
function checkCwdInsideRoot(cwd: string): void {
  let actual = '';
  try {
    actual = fs.realpathSync.native('.');
  } catch {
    // Unreachable from our root.
  }
  if (!actual.startsWith('/')) {
    throw new UserError(`workingDir ${cwd}: outside the container's root filesystem`, { exitCode: ExitCode.cannotExecute });
  }
}

function runContainer(sys: Syscall, plan: ContainerPlan | ExecPlan): never {
  const cgroupFds = openCgroupProcs(plan.cgroupProcs);
  let cgroupNs: number | undefined;
  const oci = plan.kind === 'container' ? plan.oci : undefined;
  let execFifo: number | undefined;
  if (plan.kind === 'container') {
    sys.unshare(CLONE.NEWNS);
    if (oci) execFifo = openExecFifo(oci);
    // Opened as host root, written later: the kernel checks a cgroup.procs write with the
    // opener's credentials (5.16+), which the namespace's root would not have.
    if (plan.newUserNamespace) becomeNamespaceRoot(sys);
    containerSettings(sys, plan);
    setupRootfs(sys, plan, oci ? () => ociBeforePivot(plan) : undefined);
  } else {
    // setns(CLONE_NEWNS) needs a private fs_struct; it then sets root and cwd to the
    // container's root.
    // Both opened first: the paths name host PIDs, and /proc is the container's after the setns.
    const mountNs = fs.openSync(plan.mountNamespace, 'r');
    cgroupNs = plan.cgroupNamespace === undefined ? undefined : fs.openSync(plan.cgroupNamespace, 'r');
    sys.unshare(CLONE.FS);
    sys.setns(mountNs, CLONE.NEWNS);
    fs.closeSync(mountNs);
  }
  const spec = plan.process;
  const user = resolveUser(spec.user);
  if (spec.runAsNonRoot && user.uid === 0) {
    throw new UserError('securityContext.runAsNonRoot is set but the container would run as root (uid 0): set runAsUser');
  }
  if (plan.kind === 'exec') {
    // exec runs in a container that exists: a missing -w is the caller's mistake, not ours to create.
    if (!isDirectory(spec.cwd)) {
      throw new UserError(`workdir ${spec.cwd}: no such directory in the container`, { exitCode: ExitCode.cannotExecute });
    }
    if (plan.terminal) {
      sys.setControllingTerminal(0);
      // The user owns their terminal, as with a login: programs like `script` or `mesg` check.
      fs.fchownSync(0, user.uid, -1);
    }
  } else {
    ensureCwd(spec.cwd);
    if (plan.console) {
      // runc's setupConsole: after the root is set up, before create reports done.
      attachConsole(sys, { socket: plan.console.socketFd, size: plan.console.size });
      fs.fchownSync(0, user.uid, -1);
    }
  }
  sys.chdir(spec.cwd);
  checkCwdInsideRoot(spec.cwd);
  const env = spec.env.some((e) => e.startsWith('HOME=')) ? spec.env : [...spec.env, `HOME=${user.home}`];
  const program = lookupExecutable(spec.args[0] ?? '', env);
  joinCgroups(cgroupFds);
  if (plan.kind === 'container') enterCgroupView(sys, plan.cgroupView);
  else if (cgroupNs !== undefined) {
    sys.setns(cgroupNs, CLONE.NEWCGROUP);
    fs.closeSync(cgroupNs);
  }
  applyLsmLabels(spec.lsmLabels);
  if (oci && execFifo !== undefined) {
    finishCreate();
    awaitStart(oci, execFifo);
  }
  // Seccomp as late as possible, as runc does: with no_new_privs right before execve, after
  // every call of ours; without it the kernel wants CAP_SYS_ADMIN, so before the drop. Only
  // this thread gets the filter (no TSYNC): it is the one that calls execve, execve ends
  // Node's other threads, and the program keeps the calling thread's filter.
  const seccomp = spec.seccomp ? Buffer.from(spec.seccomp.program, 'base64') : undefined;
  if (seccomp && !spec.noNewPrivileges) sys.loadSeccompFilter(seccomp, spec.seccomp!.flags);
  setRlimits(sys, spec);
  applyCredentials(sys, spec, user);
  prepareExec(sys, spec.umask, plan.preserveFds);
  if (seccomp && spec.noNewPrivileges) sys.loadSeccompFilter(seccomp, spec.seccomp!.flags);
  try {
    sys.execve(program, spec.args, env);
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    const exitCode = errno === 2 ? ExitCode.notFound : ExitCode.cannotExecute;
    throw new UserError(`exec ${spec.args[0]}: ${(err as Error).message}`, { exitCode });
  }
}

function runPodInit(sys: Syscall, plan: PodInitPlan): never {
  const cgroupFds = openCgroupProcs(plan.cgroupProcs);
  sys.unshare(CLONE.NEWNS);
  setupPodInitRoot(sys, plan);
  if (plan.hostname) sys.sethostname(plan.hostname);
  if (plan.loopbackUp) sys.bringInterfaceUp('lo');
  pivotIntoPodInitRoot(sys, plan);
  joinCgroups(cgroupFds);
  prepareExec(sys);
  sys.execve(POD_INIT_PATH, plan.args, []);
}

function report(error: unknown): never {
  // Its kind and hint go along: the supervisor reports a host failure as the host's.
  const err = hostErrorOf(error);
  const exitCode = err instanceof UserError ? err.exitCode : ExitCode.runtime;
  const message = err instanceof Error ? err.message : String(err);
  const kind = err instanceof UserError ? 'user' : err instanceof HostError ? 'host' : undefined;
  const hint = err instanceof HostError ? err.hint : undefined;
  try {
    if (controlGone) throw new Error("fd 3 is the container's");
    fs.writeSync(CONTROL_FD, encodeMessage({ type: 'error', message, exitCode, kind, hint }));
  } catch {
    // The supervisor is gone (minipod-oci's create returned): the container's stderr is where
    // its runtime's (conmon's, the shim's) logs are.
    try {
      fs.writeSync(2, `minipod-oci: ${message}\n`);
    } catch {
      // No stderr either; the exit code is all that is left.
    }
  }
  process.exit(exitCode);
}

function main(): void {
  const sys = new LinuxSyscall();
  // First of all (CVE-2019-5736): until it execs, this process runs the host's `node`, and
  // from the pod's PID namespace its /proc/PID/exe, fd, cwd and root lead to the host. Non-
  // dumpable, they are closed to every process without CAP_SYS_PTRACE; before this line the
  // helper still has every capability, which the kernel also requires of anyone who looks.
  sys.setDumpable(false);
  let plan: HelperPlan;
  try {
    plan = readPlan(sys);
    // Booted in the background (a warm pool): the container gets the daemon's priority back.
    const nice = process.argv.indexOf('--nice');
    if (nice > 0) setNice(undefined, Number(process.argv[nice + 1]));
  } catch (err) {
    report(err);
  }
  try {
    if (plan.kind === 'pod-init') runPodInit(sys, plan);
    else runContainer(sys, plan);
  } catch (err) {
    report(err);
  }
}

main();
