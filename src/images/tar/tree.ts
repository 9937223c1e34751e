/**
 * File-system operations confined to one unpack root, never following a symlink.
 *
 * Node has no openat()/O_NOFOLLOW-per-component, so confinement rests on two facts:
 * 1. the root is a fresh private directory (mode 0700, inside a 0700 temp dir) that only this
 *    unpacker writes, one entry at a time, so what we lstat is what we then use;
 * 2. every parent component of a path is checked with lstat to be a real directory before
 *    anything is created below it, and the final component is created with O_EXCL/O_NOFOLLOW
 *    (or mkdir/symlink/link, which never follow a final symlink).
 *
 * Policy for a symlink or a non-directory met as a PARENT component: the tarball is refused.
 * containerd and umoci instead resolve such a symlink inside the root (securejoin); no
 * exported root filesystem needs that (tar writes a directory's entries below the directory
 * itself), and refusing is simpler to reason about. A missing parent is created (0755, 0:0),
 * as GNU tar and containerd do, because many tarballs omit directory entries.
 * Policy for an existing FINAL component: a directory entry over a directory keeps it (only
 * metadata changes); anything else replaces what was there (removed first, recursively and
 * without following links), as containerd does: later entries win.
 */
import { constants as C, promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';

export class ConfinedTree {
  /** Absolute paths (inside root) already verified to be real directories. */
  private readonly knownDirs = new Set<string>();

  constructor(readonly root: string) {
    this.knownDirs.add(root);
  }

  abs(parts: readonly string[]): string {
    return parts.length === 0 ? this.root : path.join(this.root, ...parts);
  }

  /**
   * Makes sure every parent of `parts` is a real directory, creating missing ones when
   * `create` is set. Returns the absolute paths of directories it created.
   */
  async ensureParents(parts: readonly string[], create: boolean): Promise<string[]> {
    const created: string[] = [];
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = path.join(cur, parts[i]!);
      if (this.knownDirs.has(cur)) continue;
      const st = await lstatOrNull(cur);
      if (st === null) {
        if (!create) throw hostile(`${parts.join('/')}: parent ${parts.slice(0, i + 1).join('/')} does not exist`);
        await fsp.mkdir(cur, 0o755);
        created.push(cur);
      } else if (st.isSymbolicLink()) {
        throw hostile(`${parts.join('/')}: parent ${parts.slice(0, i + 1).join('/')} is a symlink; refusing to write through it`);
      } else if (!st.isDirectory()) {
        throw hostile(`${parts.join('/')}: parent ${parts.slice(0, i + 1).join('/')} is not a directory`);
      }
      this.knownDirs.add(cur);
    }
    return created;
  }

  /**
   * Clears the final component for a new entry. Returns true when an existing directory was
   * kept because the new entry is a directory too.
   */
  async clearFinal(parts: readonly string[], newIsDir: boolean): Promise<boolean> {
    const p = this.abs(parts);
    const st = await lstatOrNull(p);
    if (st === null) return false;
    if (newIsDir && st.isDirectory()) return true;
    if (parts.length === 0) throw hostile('the root directory can only be replaced by a directory');
    // fs.rm uses lstat while walking: a symlink is unlinked, never followed.
    await fsp.rm(p, { recursive: true, force: true });
    this.forget(p);
    return false;
  }

  /** Drops cached knowledge about `p` and everything below it after it was removed. */
  forget(p: string): void {
    const prefix = p + path.sep;
    for (const d of this.knownDirs) if (d === p || d.startsWith(prefix)) this.knownDirs.delete(d);
  }

  markDir(p: string): void {
    this.knownDirs.add(p);
  }

  /**
   * lstat of an existing path reached without symlinks in its parents, or null when it does not
   * exist or a parent is not a real directory (used for hard-link targets and deferred metadata).
   */
  async lstatConfined(parts: readonly string[]): Promise<import('node:fs').Stats | null> {
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = path.join(cur, parts[i]!);
      if (this.knownDirs.has(cur)) continue;
      const st = await lstatOrNull(cur);
      if (st === null || !st.isDirectory()) return null;
    }
    return lstatOrNull(this.abs(parts));
  }
}

export async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function hostile(message: string): UserError {
  return new UserError(`tar entry ${message}`, { code: 'image.hostile-tar' });
}

/** open(2) flags for a new regular file: never through a final symlink, never over anything. */
export const CREATE_FILE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
/** open(2) flags to get a handle on a directory for fchown/fchmod without following a symlink. */
export const OPEN_DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;
