/**
 * fsGroup: what kubelet's SetVolumeOwnership does to a volume before any container sees it.
 * Every file and directory becomes group-owned by the pod's fsGroup and group-readable (and
 * group-writable unless the volume is read-only, as configMap and secret volumes are);
 * directories also get group search and the setgid bit, so files the containers create later
 * inherit the group. Symlinks are re-grouped but never followed.
 *
 * The decision per file is pure (ownershipChange, rootNeedsChange); the walk acts on file
 * descriptors opened with O_NOFOLLOW below a directory fd, so a symlink planted in a reused
 * volume (a claim another pod wrote) cannot redirect a chown or chmod outside the volume.
 */
import fs from 'node:fs';

const S_ISGID = 0o2000;
const S_IRGRP = 0o040;
const S_IWGRP = 0o020;
const S_IXGRP = 0o010;

export type FileKind = 'dir' | 'file' | 'symlink' | 'other';

export interface OwnershipStat {
  kind: FileKind;
  /** Permission bits (st_mode & 07777). */
  mode: number;
  gid: number;
}

export interface OwnershipChange {
  /** chown(-1, fsGroup) needed. */
  chown: boolean;
  /** New permission bits, when they change. */
  mode?: number;
}

export interface OwnershipOptions {
  fsGroup: number;
  /** configMap, secret, downwardAPI, projected: group-readable only. */
  readOnly: boolean;
}

function wantedBits(kind: FileKind, readOnly: boolean): number {
  const rw = readOnly ? S_IRGRP : S_IRGRP | S_IWGRP;
  return kind === 'dir' ? rw | S_IXGRP | S_ISGID : rw;
}

/**
 * kubelet's rule: group to fsGroup, then mode |= the group bits (chmod after chown: a chown
 * clears a file's setgid). Symlinks have no mode of their own; devices, sockets and fifos are
 * re-grouped only (minipod never opens them, and a mode change gives a container nothing).
 */
export function ownershipChange(st: OwnershipStat, o: OwnershipOptions): OwnershipChange {
  const chown = st.gid !== o.fsGroup;
  if (st.kind === 'symlink' || st.kind === 'other') return { chown };
  const mode = st.mode | wantedBits(st.kind, o.readOnly);
  return mode === st.mode ? { chown } : { chown, mode };
}

/** fsGroupChangePolicy OnRootMismatch: skip the walk when the root already looks done. */
export function rootNeedsChange(root: OwnershipStat, o: OwnershipOptions): boolean {
  if (root.gid !== o.fsGroup) return true;
  if (root.kind !== 'dir') return true;
  const want = wantedBits('dir', o.readOnly);
  return (root.mode & want) !== want;
}

function kindOf(st: fs.Stats): FileKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function statOf(st: fs.Stats): OwnershipStat {
  return { kind: kindOf(st), mode: st.mode & 0o7777, gid: st.gid };
}

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

function applyToFd(fd: number, o: OwnershipOptions): OwnershipStat {
  const st = statOf(fs.fstatSync(fd));
  const change = ownershipChange(st, o);
  if (change.chown) fs.fchownSync(fd, -1, o.fsGroup);
  if (change.mode !== undefined) fs.fchmodSync(fd, change.mode);
  return st;
}

/** Children of an open directory, each reached through the directory's fd, never by path. */
function walkDir(dirFd: number, o: OwnershipOptions): void {
  const base = `/proc/self/fd/${dirFd}`;
  for (const entry of fs.readdirSync(base, { withFileTypes: true })) {
    const p = `${base}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      const st = statOf(fs.lstatSync(p));
      if (ownershipChange(st, o).chown) fs.lchownSync(p, -1, o.fsGroup);
      continue;
    }
    if (!entry.isDirectory() && !entry.isFile()) {
      const st = statOf(fs.lstatSync(p));
      if (ownershipChange(st, o).chown) fs.lchownSync(p, -1, o.fsGroup);
      continue;
    }
    let fd: number;
    try {
      fd = fs.openSync(p, OPEN_FLAGS);
    } catch (err) {
      // Replaced by a symlink or removed since readdir: not ours to follow.
      if (['ELOOP', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
      throw err;
    }
    try {
      const st = applyToFd(fd, o);
      if (st.kind === 'dir') walkDir(fd, o);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Applies fsGroup to the volume at `root` (a directory the supervisor made or owns). Returns
 * false when OnRootMismatch found nothing to do.
 */
export function setVolumeOwnership(root: string, o: OwnershipOptions & { policy: 'Always' | 'OnRootMismatch' }): boolean {
  const fd = fs.openSync(root, OPEN_FLAGS | fs.constants.O_DIRECTORY);
  try {
    if (o.policy === 'OnRootMismatch' && !rootNeedsChange(statOf(fs.fstatSync(fd)), o)) return false;
    applyToFd(fd, o);
    walkDir(fd, o);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}
