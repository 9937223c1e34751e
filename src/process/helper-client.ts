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
import { libc } from '../../native-bindings/libc.js';
import { SyscallError } from '../errors.js';
import type { HelperFailure, HelperPlan } from '../plan/types.js';

const HELPER_SCRIPT = fileURLToPath(new URL('./helper-main.js', import.meta.url));

export class HelperFailed extends Error {
  override name = 'HelperFailed';
  constructor(message: string, readonly exitCode: number) {
    super(message);
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
}

const O_CLOEXEC = 0o2000000;

/**
 * A pipe(2), not the socketpair Node makes for 'pipe' stdio: programs open /dev/stdout (nginx's
 * `access_log /dev/stdout`), and opening a socket through /proc/self/fd fails with ENXIO.
 * Close-on-exec in the parent; the child gets its end dup2()ed onto 1 or 2.
 */
function outputPipe(): { read: number; write: number } {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, O_CLOEXEC) !== 0) throw new SyscallError('pipe2', libc().errno());
  return { read: fds[0]!, write: fds[1]! };
}

function readableFrom(fd: number): Readable {
  return new net.Socket({ fd, readable: true, writable: false });
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
  let child: ChildProcess;
  try {
    const args = options.background ? [HELPER_SCRIPT, '--nice', String(os.getPriority())] : [HELPER_SCRIPT];
    child = spawn(process.execPath, args, { stdio: stdio as StdioOptions, detached: true, env: {} });
    if (options.background && child.pid !== undefined) os.setPriority(child.pid, 19);
  } finally {
    // The child has its copies; ours would keep the pipes open after the container exits.
    if (out) fs.closeSync(out.write);
    if (err) fs.closeSync(err.write);
  }
  if (child.pid === undefined) {
    if (out) fs.closeSync(out.read);
    if (err) fs.closeSync(err.read);
    throw new Error('could not start a helper process');
  }
  const control = child.stdio[3] as Socket;
  const booted = new Promise<boolean>((resolve) => {
    const onData = (d: Buffer): void => {
      if (d.toString().includes('"ready"')) done(true);
    };
    const done = (ok: boolean): void => {
      control.off('data', onData);
      resolve(ok);
    };
    control.on('data', onData);
    control.once('close', () => done(false));
  });
  const helper: Helper = {
    child,
    pid: child.pid,
    control,
    booted,
    isBooted: false,
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
    helper.child.once('exit', (code, signal) => {
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all([ended(helper.stdout), ended(helper.stderr)]);
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, drainMs)));
      void Promise.race([drained, deadline]).then(() => {
        clearTimeout(timer);
        helper.stdout?.destroy();
        helper.stderr?.destroy();
        resolve({ code, signal });
      });
    });
  });
}

/**
 * Sends the plan and resolves once the helper has exec'd (its control socket closed without a
 * message); rejects with HelperFailed carrying the helper's message and exit code.
 */
export function sendPlan(helper: Helper, plan: HelperPlan): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
    };
    const onEnd = (): void => {
      cleanup();
      const line = received.split('\n').find((l) => l.trim() !== '' && !l.includes('"type":"ready"'));
      if (!line) {
        resolve();
        return;
      }
      try {
        const failure = JSON.parse(line) as HelperFailure;
        reject(new HelperFailed(failure.message, failure.exitCode));
      } catch {
        reject(new HelperFailed(`helper sent garbage: ${line.slice(0, 200)}`, 125));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new HelperFailed(`helper control socket: ${err.message}`, 125));
    };
    const cleanup = (): void => {
      helper.control.off('data', onData);
      helper.control.off('end', onEnd);
      helper.control.off('close', onEnd);
      helper.control.off('error', onError);
    };
    helper.control.on('data', onData);
    helper.control.once('end', onEnd);
    helper.control.once('close', onEnd);
    helper.control.once('error', onError);
    helper.control.write(JSON.stringify(plan) + '\n');
  });
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
