/**
 * flock(2) locks: released by the kernel when the process dies, so a crash never leaves the
 * store locked. Node has no flock; it is one koffi call (libc.ts loads koffi the same way).
 * Taken non-blocking and polled, so the event loop keeps running (downloads, progress).
 */
import { promises as fsp } from 'node:fs';
import { UserError } from '../../errors.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;

let flockFn: ((fd: number, op: number) => number) | undefined;
let errnoFn: (() => number) | undefined;

async function flock(): Promise<(fd: number, op: number) => number> {
  if (!flockFn) {
    const koffi = (await import('koffi')).default;
    flockFn = koffi.load('libc.so.6').func('int flock(int fd, int op)') as (fd: number, op: number) => number;
    errnoFn = () => koffi.errno();
  }
  return flockFn;
}

export interface FileLock {
  release(): Promise<void>;
}

/**
 * Locks `file` (created if missing). `onWait` is called once if someone else holds it.
 * Gives up after `timeoutMs` with a UserError naming `what`.
 */
export async function lockFile(
  file: string,
  mode: 'shared' | 'exclusive',
  what: string,
  opts: { timeoutMs?: number; onWait?: () => void } = {},
): Promise<FileLock> {
  const fn = await flock();
  const fh = await fsp.open(file, 'a', 0o600);
  const op = (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let waited = false;
  try {
    for (;;) {
      if (fn(fh.fd, op) === 0) break;
      const errno = errnoFn!();
      if (errno !== EWOULDBLOCK) throw new Error(`flock ${file}: errno ${errno}`);
      if (!waited) opts.onWait?.();
      waited = true;
      if (Date.now() > deadline) throw new UserError(`timed out waiting for ${what} (held by another minipod process)`, { code: 'image.locked' });
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await fh.close();
    throw err;
  }
  return {
    release: async () => {
      fn(fh.fd, LOCK_UN);
      await fh.close();
    },
  };
}

export async function withLock<T>(file: string, mode: 'shared' | 'exclusive', what: string, body: () => Promise<T>, opts?: { timeoutMs?: number; onWait?: () => void }): Promise<T> {
  const lock = await lockFile(file, mode, what, opts);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}
