/**
 * Error classes and the exit-code mapping.
 *
 * Three kinds of failure, kept apart so the CLI can tell the user what went wrong without a
 * stack trace when it is their mistake or the host's, and with one when it is ours:
 * - UserError: bad input (manifest, flags, tarball, missing pod). One line, exit 125.
 * - HostError: the host's state stopped us (a kernel call refused, EBUSY, a missing CNI plugin,
 *   a cgroup write): what failed, on what, and a hint of what to check. SyscallError (the call,
 *   its key arguments and errno, crun style: `mount /proc: EBUSY`) and CniError are HostErrors.
 * - anything else is an internal failure (a bug: printed as one, with the stack under
 *   MINIPOD_DEBUG).
 * Context is added outward with `withContext`, keeping the original as `cause` and its kind; a
 * pod's start and stop steps use `inStep`, so a host failure deep in them reads
 * `<step> of pod P: <call> <path>: <errno>`. Node's own errors from fs and child_process calls
 * (they carry the call, the path and the errno) count as SyscallErrors.
 */

/** Exit codes shared with podman and docker. */
export const ExitCode = {
  ok: 0,
  /** minipod itself failed (bad manifest, kernel refused a setup step, ...). */
  runtime: 125,
  /** The container's command exists but could not be executed. */
  cannotExecute: 126,
  /** The container's command was not found. */
  notFound: 127,
} as const;

export class UserError extends Error {
  override name = 'UserError';
  /** Stable code for scripts and tests, e.g. `manifest.invalid`, `pod.not-found`. */
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, options: { code?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'user';
    this.exitCode = options.exitCode ?? ExitCode.runtime;
  }
}

/** Error names for the errno values we meet; the rest print as their number. */
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  7: 'E2BIG',
  8: 'ENOEXEC',
  9: 'EBADF',
  10: 'ECHILD',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  26: 'ETXTBSY',
  28: 'ENOSPC',
  30: 'EROFS',
  36: 'ENAMETOOLONG',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  40: 'ELOOP',
  32: 'EPIPE',
  95: 'EOPNOTSUPP',
  98: 'EADDRINUSE',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  122: 'EDQUOT',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** The host's state, not the user's input nor our code, made an operation fail. */
export class HostError extends Error {
  override name = 'HostError';
  /** What to check on the host, for the user (one line). */
  readonly hint?: string;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** What to look at when a kernel call fails with this errno. */
const ERRNO_HINTS: Record<string, string> = {
  EPERM: 'minipod needs root; a security module (AppArmor, SELinux) or an outer container may forbid this call',
  EACCES: 'permissions on the path, or a security module (AppArmor, SELinux)',
  EBUSY: 'something else holds it: a mount (findmnt), a process in the cgroup, a leftover of an earlier pod (minipod gc)',
  ENOENT: 'a path or a kernel interface is missing (is the filesystem mounted, the module loaded?)',
  ENODEV: 'the kernel lacks this filesystem or device (a module not loaded?)',
  ENOSYS: 'the kernel lacks this call (too old, or filtered by seccomp in an outer container)',
  EINVAL: 'the kernel refused the arguments: an unsupported option or feature on this kernel',
  ENOSPC: 'a disk, or a kernel limit (inotify, keys, cgroup or namespace counts), is full',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
  EROFS: 'the filesystem is mounted read-only',
  EDQUOT: 'a disk quota is full',
  ENOTDIR: 'a path that should be a directory is a file: a leftover, or something else uses the path',
  EEXIST: 'the path exists already: a leftover of an earlier pod (minipod gc)',
};

export class SyscallError extends HostError {
  override name = 'SyscallError';
  readonly call: string;
  readonly errno: number;
  private readonly errnoName: string;
  /** `name`: the errno's name when the caller knows it (Node's `code`). */
  constructor(call: string, errno: number, detail?: string, options: { name?: string; cause?: unknown } = {}) {
    const name = options.name ?? errnoName(errno);
    super(`${call}${detail ? ` ${detail}` : ''}: ${name}`, { hint: ERRNO_HINTS[name], cause: options.cause });
    this.call = call;
    this.errno = errno;
    this.errnoName = name;
  }
  get code(): string {
    return this.errnoName;
  }
}

/**
 * Node's errors from fs and child_process calls (`code`, `errno`, `syscall`, `path`) as the
 * SyscallError they are: `mkdir /run/minipod/pods/p: ENOSPC`. Anything else is returned as is.
 */
export function hostErrorOf(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof HostError || err instanceof UserError) return err;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.syscall !== 'string' || typeof e.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code) || typeof e.errno !== 'number') {
    return err;
  }
  // spawn's `syscall` names the program already (`spawn iptables`).
  const on = e.path !== undefined && !e.syscall.endsWith(` ${e.path}`) ? e.path : undefined;
  const detail = [on, e.dest].filter((x) => x !== undefined).join(' -> ');
  return new SyscallError(e.syscall, Math.abs(e.errno), detail || undefined, { name: e.code, cause: err });
}

/** Node's fs errors that are the host's state, never a bug: a full or read-only filesystem. */
const FS_HOST_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/**
 * A Node fs error for a full or read-only filesystem as a HostError naming the path (Node says
 * `ENOSPC: no space left on device, write` and leaves the path out of write errors; `file`, when
 * given, is named instead of the path Node has, such as a temp file), or
 * undefined for anything else.
 */
export function fsHostError(err: unknown, file?: string): HostError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== 'string' || !FS_HOST_ERRNOS.has(e.code)) return undefined;
  if (e instanceof HostError) return e;
  const where = file ?? e.path;
  const what = `${e.syscall ?? 'write'}${where ? ` ${where}` : ''}: ${e.code}`;
  const dir = where ? ` (${where.replace(/\/[^/]*$/, '') || '/'})` : '';
  const hint =
    e.code === 'EROFS'
      ? `the filesystem${dir} is mounted read-only: remount it read-write, or point MINIPOD_RUN_DIR / MINIPOD_LIB_DIR elsewhere`
      : `the filesystem${dir} is full: free space there (df -h), or point MINIPOD_RUN_DIR / MINIPOD_LIB_DIR elsewhere`;
  return new HostError(what, { hint, cause: e });
}

/** Wraps an error with what we were doing, crun style: `start container web: mount /proc: EBUSY`. */
export function withContext(context: string, err: unknown): Error {
  const host = fsHostError(err) ?? hostErrorOf(err);
  const inner = host instanceof Error ? host : new Error(String(host));
  const message = `${context}: ${inner.message}`;
  if (inner instanceof UserError) {
    return new UserError(message, { code: inner.code, exitCode: inner.exitCode, cause: inner });
  }
  if (inner instanceof HostError) return new HostError(message, { hint: inner.hint, cause: inner });
  const wrapped = new Error(message, { cause: inner });
  return wrapped;
}

/** Runs fn and wraps any error it throws with context. */
export function inContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw withContext(context, err);
  }
}

export async function inContextAsync<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw withContext(context, err);
  }
}

/**
 * One step of a pod's start or stop (`create the cgroups of pod web`): a failure of the host or
 * a bug says which step failed; a UserError names its field or pod already and passes unchanged.
 */
export async function inStep<T>(step: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof UserError ? err : withContext(step, err);
  }
}

/** `minipod: <message>`, plus `minipod: check: <hint>` for a host failure; "internal error" only for bugs. */
export function describeError(error: unknown): { lines: string[]; internal: boolean } {
  const err = fsHostError(error) ?? hostErrorOf(error);
  if (err instanceof UserError) return { lines: [err.message.split('\n')[0]!], internal: false };
  if (err instanceof HostError) {
    return { lines: [`host: ${err.message.split('\n')[0]}`, ...(err.hint ? [`check: ${err.hint}`] : [])], internal: false };
  }
  const e = err as Error;
  return { lines: [`internal error: ${e?.message ?? String(err)}`], internal: true };
}

/** One line for a warning: the message, and for a host failure what to check. */
export function errorLine(err: unknown): string {
  const e = hostErrorOf(err);
  const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  return e instanceof HostError && e.hint ? `${message} (check: ${e.hint})` : message;
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** The exit code the CLI uses for an error. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UserError) return err.exitCode;
  return ExitCode.runtime;
}
