/**
 * The supervisor's side of the helper protocol (see helper-main.ts): spawn a helper, send it
 * a plan, learn whether its execve succeeded.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import net, { type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { hostSyscall } from '../syscall/linux.js';
import type { HelperPlan } from '../plan/types.js';
import { setNice } from './priority.js';
import { encodeMessage, type ErrorMessage, LineReader, parseHelperMessage, ProtocolError } from './protocol.js';
import { HostError } from '../errors.js';

const HELPER_SCRIPT = fileURLToPath(new URL('./helper-main.js', import.meta.url));

/** What a helper runs: the node binary and minipod's helper script (a pod's own uid must reach both). */
export const HELPER_EXECUTABLES: readonly string[] = [process.execPath, HELPER_SCRIPT];

/**
 * A helper could not set up or exec. A HostError, with the helper's hint, so the pod init's
 * failure prints as the host's; the container runner and exec read `exitCode` and `kind` (126
 * and 127 are the user's program, reported as the container's exit).
 */
export class HelperFailed extends HostError {
  override name = 'HelperFailed';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly kind?: 'user' | 'host',
    hint?: string,
  ) {
    super(message, { hint });
  }
}

export interface Helper {
  child: ChildProcess;
  pid: number;
  control: Socket;
  /** Resolves once the helper has booted and waits for its plan (false: it exited first). */
  booted: Promise<boolean>;
  /** True from the moment `booted` resolved true. */
  isBooted: boolean;
  /**
   * Resolves when the control socket closed (the exec succeeded or the helper died) with the
   * failure the helper reported on it, if any (protocol.ts).
   */
  closed: Promise<ErrorMessage | undefined>;
  /** The container's output, read from real pipes (see spawnHelper); null when inherited. */
  stdout: Readable | null;
  stderr: Readable | null;
}

export interface SpawnHelperOptions {
  /** Give the process a stdin pipe; otherwise /dev/null (ignored for 'inherit' and terminals). */
  stdin?: boolean;
  /**
   * 'pipe' (default): stdout and stderr are pipes the caller reads (helper.stdout/stderr).
   * 'inherit': the process writes straight to our stdout/stderr (and reads our stdin if asked).
   * { terminal: fd }: a pty slave as fds 0-2 (exec -t).
   */
  stdio?: 'pipe' | 'inherit' | { terminal: number };
  /**
   * Boot at the lowest CPU priority (a warm pool refilling must not slow the pods that are
   * starting or stopping); the helper returns to ours when its plan arrives.
   */
  background?: boolean;
  /** The nice value a background helper returns to with its plan (default: ours). */
  planPriority?: number;
  /**
   * /proc/<pid>/ns/user of a pod with its own user namespace: the helper starts through
   * util-linux nsenter, which joins it (a multi-threaded process cannot) and becomes the pod's
   * root before it execs node (see src/userns/pod-init.ts).
   */
  userNamespace?: string;
  /**
   * A new user namespace for the helper, with these further namespaces owned by it
   * (util-linux unshare flags: --pid, --net, --ipc, --uts), for minipod-oci's linux.uidMappings.
   * See newUserNamespaceCommand. The helper's `pid` becomes the one it reports when ready.
   */
  newUserNamespace?: { unshare: string[]; join?: string };
  /**
   * Descriptors the helper gets from fd 4 on (fd 3 is its control socket), e.g. the connected
   * console socket of minipod-oci's create (src/process/console.ts).
   */
  extraFds?: number[];
}

const NSENTER = '/usr/bin/nsenter';
const UNSHARE = '/usr/bin/unshare';
const SETSID = '/usr/bin/setsid';

/**
 * The command that starts a helper in a new user namespace. Node cannot make one (a
 * multi-threaded process may not), so util-linux does, as runc's nsexec would: one unshare(2)
 * with CLONE_NEWUSER and the other new namespaces (created after the user namespace, so owned
 * by it: the helper must be capable over its own pid namespace to mount proc, over its network
 * namespace for sysfs and `lo`). --keep-caps makes the creator's full capabilities in the new
 * namespace ambient, so they survive the exec of node although no map exists yet; the runtime
 * writes the maps once the helper reports ready, and the helper then becomes the namespace's
 * root. With a new pid namespace, `setsid --fork` forks the helper as its PID 1 and exits at
 * once (runc's CLONE_PARENT): the helper is then an orphan, reparented to the nearest
 * subreaper (conmon, the containerd shim, or minipod-oci run itself).
 */
export function newUserNamespaceCommand(unshareFlags: readonly string[], program: readonly string[], join?: string): string[] {
  const fork = unshareFlags.includes('--pid') ? [SETSID, '--fork', '--'] : [];
  // A user namespace given by path, with new namespaces to make inside it: nsenter joins it and
  // becomes its root (full capabilities there, kept across exec), then unshare makes them.
  if (join !== undefined) return [NSENTER, `--user=${join}`, '--', UNSHARE, ...unshareFlags, '--', ...fork, ...program];
  return [UNSHARE, '--user', '--keep-caps', ...unshareFlags, '--', ...fork, ...program];
}

/**
 * A pipe(2), not the socketpair Node makes for 'pipe' stdio: programs open /dev/stdout (nginx's
 * `access_log /dev/stdout`), and opening a socket through /proc/self/fd fails with ENXIO.
 * Close-on-exec in the parent; the child gets its end dup2()ed onto 1 or 2.
 */
function outputPipe(): { read: number; write: number } {
  const [read, write] = hostSyscall().pipe();
  return { read, write };
}

function readableFrom(fd: number): Readable {
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * The one reader of a helper's control socket, for its whole life: `ready` resolves `booted`,
 * an `error` (or anything unparsable, as a 125 failure) is what `closed` resolves with.
 */
function readMessages(
  control: Socket,
  onReady: (pid?: number) => void,
): { booted: Promise<boolean>; closed: Promise<ErrorMessage | undefined> } {
  const lines = new LineReader();
  let failure: ErrorMessage | undefined;
  let resolveBooted!: (ok: boolean) => void;
  const booted = new Promise<boolean>((resolve) => (resolveBooted = resolve));
  const take = (line: string): void => {
    try {
      const message = parseHelperMessage(line);
      if (message.type === 'ready') {
        onReady(message.pid);
        resolveBooted(true);
      } else if (message.type === 'error') failure ??= message;
      // mounted/created belong to minipod-oci's create, which reads them itself (src/oci).
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      failure ??= { type: 'error', message: err.message, exitCode: 125 };
    }
  };
  control.on('data', (chunk: Buffer) => lines.push(chunk).forEach(take));
  const closed = new Promise<ErrorMessage | undefined>((resolve) => {
    let done = false;
    const finish = (socketError?: Error): void => {
      if (done) return;
      done = true;
      const rest = lines.rest();
      if (rest) take(rest);
      if (socketError) failure ??= { type: 'error', message: `helper control socket: ${socketError.message}`, exitCode: 125 };
      resolveBooted(false);
      resolve(failure);
    };
    control.once('end', () => finish());
    control.once('close', () => finish());
    // Kept for the socket's life: a write to a helper that died must not be an unhandled error.
    control.on('error', (e) => finish(e));
  });
  return { booted, closed };
}

/**
 * Spawns a helper. Synchronous on purpose: the caller may be inside spawnInNamespaces, and the
 * child is created before this returns. The helper gets its own session so a Ctrl-C on the
 * user's terminal reaches the supervisor, which stops containers in order, and not every
 * container at once.
 */
export function spawnHelper(options: SpawnHelperOptions = {}): Helper {
  const mode = options.stdio ?? 'pipe';
  const out = mode === 'pipe' ? outputPipe() : undefined;
  const err = mode === 'pipe' ? outputPipe() : undefined;
  const stdin = options.stdin ? (mode === 'inherit' ? 'inherit' : 'pipe') : 'ignore';
  const stdio =
    typeof mode === 'object'
      ? [mode.terminal, mode.terminal, mode.terminal, 'pipe']
      : [stdin, out?.write ?? 'inherit', err?.write ?? 'inherit', 'pipe'];
  stdio.push(...(options.extraFds ?? []));
  let child: ChildProcess;
  try {
    const args = options.background ? [HELPER_SCRIPT, '--nice', String(options.planPriority ?? os.getPriority())] : [HELPER_SCRIPT];
    const userns = options.newUserNamespace
      ? newUserNamespaceCommand(options.newUserNamespace.unshare, [process.execPath, ...args], options.newUserNamespace.join)
      : undefined;
    const [command, argv] = userns
      ? [userns[0]!, userns.slice(1)]
      : options.userNamespace
        ? [NSENTER, [`--user=${options.userNamespace}`, '--', process.execPath, ...args]]
        : [process.execPath, args];
    child = spawn(command, argv, { stdio: stdio as StdioOptions, detached: true, env: {} });
    if (options.background && child.pid !== undefined) setNice(child.pid, 19);
  } finally {
    // The child has its copies; ours would keep the pipes open after the container exits.
    if (out) fs.closeSync(out.write);
    if (err) fs.closeSync(err.write);
  }
  if (child.pid === undefined) {
    if (out) fs.closeSync(out.read);
    if (err) fs.closeSync(err.read);
    throw new HostError(`could not start a helper process (${process.execPath})`, {
      hint: "the process limits (ulimit -u, pids.max of the daemon's cgroup) and free memory",
    });
  }
  const control = child.stdio[3] as Socket;
  const { booted, closed } = readMessages(control, (pid) => {
    if (options.newUserNamespace && pid !== undefined) helper.pid = pid;
  });
  const helper: Helper = {
    child,
    pid: child.pid,
    control,
    booted,
    isBooted: false,
    closed,
    stdout: out ? readableFrom(out.read) : null,
    stderr: err ? readableFrom(err.read) : null,
  };
  void booted.then((ok) => (helper.isBooted = ok));
  return helper;
}

/**
 * Resolves with the exit status once the helper (or the program it became) has exited and its
 * output pipes are drained; a background process that keeps a pipe open does not hold this up
 * for more than `drainMs`.
 */
export function helperExit(helper: Helper, drainMs = 200): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const ended = (r: Readable | null): Promise<void> =>
    r === null || r.destroyed ? Promise.resolve() : new Promise((resolve) => r.once('close', () => resolve()));
  return new Promise((resolve) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all([ended(helper.stdout), ended(helper.stderr)]);
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, drainMs)));
      void Promise.race([drained, deadline]).then(() => {
        clearTimeout(timer);
        helper.stdout?.destroy();
        helper.stderr?.destroy();
        resolve({ code, signal });
      });
    };
    // A helper killed while its start awaited something else (the chaos soak's kill -9
    // mid-start) has already emitted 'exit': waiting for the event would wait forever, and
    // the pod's stop with it.
    const { exitCode, signalCode } = helper.child;
    if (exitCode !== null || signalCode !== null) onExit(exitCode, signalCode);
    else helper.child.once('exit', onExit);
  });
}

/**
 * Sends the plan and resolves once the helper has exec'd (its control socket closed without a
 * message); rejects with HelperFailed carrying the helper's message and exit code.
 */
export async function sendPlan(helper: Helper, plan: HelperPlan): Promise<void> {
  helper.control.write(encodeMessage(plan));
  const failure = await helper.closed;
  if (failure) throw new HelperFailed(failure.message, failure.exitCode, failure.kind, failure.hint);
}

/** Kills a helper that was never given a plan (still Node, nothing of a container yet). */
export function discardHelper(h: Helper): void {
  try {
    process.kill(h.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  h.control.destroy();
  h.stdout?.destroy();
  h.stderr?.destroy();
}
