/**
 * The few filesystem calls the cgroup managers make, behind an interface so unit tests can run
 * them against a fake cgroupfs in a temp dir (which must imitate the kernel: files appear on
 * mkdir, rmdir works on a dir that still has control files) and inject failures.
 *
 * Every failure becomes a SyscallError naming the call, the file and, for writes, the value:
 * `write /sys/fs/cgroup/memory/minipod/p/web/memory.limit_in_bytes = 1: EINVAL`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SyscallError } from '../errors.js';

export interface CgroupFs {
  /** One write(2) of `value`, without O_CREAT or O_TRUNC: cgroupfs parses each write alone. */
  write(file: string, value: string): void;
  read(file: string): string;
  exists(p: string): boolean;
  /** To notice co-mounted v1 controllers (`cpu` and `cpuacct` both links to `cpu,cpuacct`). */
  realpath(p: string): string;
  /** Not recursive: the managers create one level at a time to know what to undo. */
  mkdir(dir: string): void;
  rmdir(dir: string): void;
  /** Names of the sub-directories (child cgroups) of dir. */
  subdirs(dir: string): string[];
  kill(pid: number, signal: NodeJS.Signals): void;
}

/** errno number from a Node fs error (`errno` is negative there), EIO if unknown. */
export function errnoOf(err: unknown): number {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number') return Math.abs(e.errno);
  return 5;
}

export function codeOf(err: unknown): string | undefined {
  if (err instanceof SyscallError) return err.code;
  return (err as NodeJS.ErrnoException)?.code;
}

/** A failed cgroup file write; `file` and `value` are kept for callers that want to explain it. */
export class CgroupWriteError extends SyscallError {
  override name = 'CgroupWriteError';
  constructor(
    readonly file: string,
    readonly value: string,
    errno: number,
  ) {
    super('write', errno, `${file} = ${value}`);
  }
}

export const nodeCgroupFs: CgroupFs = {
  write(file, value) {
    let fd: number;
    try {
      // O_WRONLY alone: write-only files such as cgroup.kill refuse O_RDWR, and a missing file
      // must fail (ENOENT) rather than be created.
      fd = fs.openSync(file, fs.constants.O_WRONLY);
    } catch (err) {
      throw new CgroupWriteError(file, value, errnoOf(err));
    }
    try {
      fs.writeSync(fd, value);
    } catch (err) {
      throw new CgroupWriteError(file, value, errnoOf(err));
    } finally {
      fs.closeSync(fd);
    }
  },
  read(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new SyscallError('read', errnoOf(err), file);
    }
  },
  exists(p) {
    return fs.existsSync(p);
  },
  realpath(p) {
    return fs.realpathSync(p);
  },
  mkdir(dir) {
    try {
      fs.mkdirSync(dir);
    } catch (err) {
      throw new SyscallError('mkdir', errnoOf(err), dir);
    }
  },
  rmdir(dir) {
    try {
      fs.rmdirSync(dir);
    } catch (err) {
      throw new SyscallError('rmdir', errnoOf(err), dir);
    }
  },
  subdirs(dir) {
    try {
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return [];
      throw new SyscallError('readdir', errnoOf(err), dir);
    }
  },
  kill(pid, signal) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      // Already gone between listing and killing: that is what we wanted.
      if (codeOf(err) !== 'ESRCH') throw new SyscallError('kill', errnoOf(err), `${pid} ${signal}`);
    }
  },
};

/** Reads a file, or undefined when it does not exist (a controller not enabled, no memsw...). */
export function readOptional(cfs: CgroupFs, file: string): string | undefined {
  try {
    return cfs.read(file);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Parses the `key value` lines of memory.events, cpu.stat, memory.oom_control, ... */
export function parseKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/**
 * Parses a single-number control file. `max` (v2) and v1's "unlimited" (PAGE_COUNTER_MAX
 * rounded, about 2^63) come back as null.
 */
export function parseLimit(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '') return undefined;
  if (t === 'max' || t === '-1') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return undefined;
  return n >= 2 ** 62 ? null : n;
}

export function parsePids(text: string | undefined): number[] {
  if (!text) return [];
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Depth-first list of dir and every cgroup below it, deepest first (the rmdir order). */
export function walkDeepestFirst(cfs: CgroupFs, dir: string): string[] {
  const out: string[] = [];
  for (const name of cfs.subdirs(dir)) out.push(...walkDeepestFirst(cfs, path.join(dir, name)));
  out.push(dir);
  return out;
}
