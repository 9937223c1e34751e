/**
 * Inter-process locks and atomic writes shared by every part of minipod: the network registry
 * (port reservations, pod network state), commands that change one pod (stop, rm, restart,
 * gc), and the image store (imports, rmi, prune).
 *
 * flock(2) through the Syscall seam (Node has none): the kernel releases a lock when its holder dies, so
 * a `kill -9` never leaves anything locked and no stale-owner takeover is needed. Taken
 * non-blocking and polled, so the event loop keeps running (downloads, progress).
 */
import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsHostError, inContext, UserError } from '../errors.js';
import { hostSyscall } from '../syscall/linux.js';
import type { Syscall } from '../syscall/syscall.js';

export interface FileLock {
  release(): Promise<void>;
}

export interface LockOptions {
  timeoutMs?: number;
  /** Called once when someone else holds the lock (for a "waiting for ..." line). */
  onWait?: () => void;
  sys?: Syscall;
}

/** Locks `file` (created if missing); gives up after the timeout with a UserError naming `what`. */
export async function lockFile(file: string, mode: 'shared' | 'exclusive', what: string, opts: LockOptions = {}): Promise<FileLock> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const fh = await fsp.open(file, 'a', 0o600);
  const sys = opts.sys ?? hostSyscall();
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let waited = false;
  try {
    for (;;) {
      if (inContext(`lock ${file}`, () => sys.flock(fh.fd, mode))) break;
      if (!waited) opts.onWait?.();
      waited = true;
      if (Date.now() > deadline) throw new UserError(`timed out waiting for ${what} (held by another minipod process)`, { code: 'locked' });
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    await fh.close();
    throw err;
  }
  return {
    release: async () => {
      sys.flock(fh.fd, 'unlock');
      await fh.close();
    },
  };
}

export async function withLock<T>(
  file: string,
  mode: 'shared' | 'exclusive',
  what: string,
  body: () => Promise<T>,
  opts?: LockOptions,
): Promise<T> {
  const lock = await lockFile(file, mode, what, opts);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

/** An exclusive lock on `file` around `fn`. */
export function withFileLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  return withLock(file, 'exclusive', file, fn, { timeoutMs });
}

/** A temp name beside `file` that no other writer, in this process or another, uses. */
function tempNameFor(file: string): string {
  return `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

const TEMP_NAME = /\.(\d+)-[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temp files of writeFileAtomic in `dir` whose writer is dead (a process killed
 * between its write and its rename, e.g. a daemon's kill -9): the writer's pid is in the name.
 * Returns the paths removed.
 */
export function removeStaleTempFiles(dir: string, alive: (pid: number) => boolean): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/**
 * mkdir -p that reports the real errno: Node's recursive mkdir says ENOENT when the
 * filesystem is read-only (EROFS). On ENOENT the missing components are made one at a time,
 * which throws what the kernel really said.
 */
export function mkdirAll(dir: string, mode?: number): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const missing: string[] = [];
    for (let d = path.resolve(dir); !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) fs.mkdirSync(d, { mode });
    throw err;
  }
}

/** Writes a file so readers never see half of it: the old file or the new one. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
  mkdirAll(path.dirname(file));
  const tmp = tempNameFor(file);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // Node leaves the path out of a failed write(2): name the file, for a full disk.
    throw fsHostError(err, file) ?? err;
  }
}

/** writeFileAtomic for async callers (downloads, the image store). */
export async function writeFileAtomicAsync(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  mkdirAll(path.dirname(file), 0o700);
  const tmp = tempNameFor(file);
  try {
    await fsp.writeFile(tmp, data, { mode });
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw fsHostError(err, file) ?? err;
  }
}
