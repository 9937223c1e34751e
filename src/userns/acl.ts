/**
 * Letting one host uid (a pod's root) walk through minipod's private directories, and nobody
 * else.
 *
 * The helpers of a `hostUsers: false` pod run as the pod's root: host uid `base`, with
 * capabilities only in the pod's user namespace, which do not override permissions on files
 * the namespace does not map. They must still reach the bind sources (/etc/hosts, volumes, the
 * shared /dev/shm) and the container's root below /run/minipod/pods/<pod> and
 * /var/lib/minipod/pods/<pod>, whose directories are root's and mode 0700. Rather than open
 * those to every host user (containers/storage makes its directories 0711), each directory on
 * the way that others cannot search gets one POSIX ACL entry: `user:<base>:--x`. Revoked when
 * the range is freed.
 *
 * The xattr format (system.posix_acl_access, linux/posix_acl_xattr.h): a u32 version (2), then
 * entries { u16 tag, u16 perm, u32 id }, sorted by tag then id, with a MASK entry whenever
 * there is a named entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Syscall } from '../syscall/syscall.js';

export const ACL_XATTR = 'system.posix_acl_access';
const VERSION = 2;
const TAG = { USER_OBJ: 0x01, USER: 0x02, GROUP_OBJ: 0x04, GROUP: 0x08, MASK: 0x10, OTHER: 0x20 } as const;
const NO_ID = 0xffffffff;
const SEARCH = 1;

export interface AclEntry {
  tag: number;
  perm: number;
  id: number;
}

export function decodeAcl(buf: Buffer): AclEntry[] {
  if (buf.length < 4 || buf.readUInt32LE(0) !== VERSION || (buf.length - 4) % 8 !== 0) {
    throw new Error('unexpected POSIX ACL format');
  }
  const out: AclEntry[] = [];
  for (let off = 4; off < buf.length; off += 8) {
    out.push({ tag: buf.readUInt16LE(off), perm: buf.readUInt16LE(off + 2), id: buf.readUInt32LE(off + 4) });
  }
  return out;
}

export function encodeAcl(entries: AclEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag || a.id - b.id);
  const buf = Buffer.alloc(4 + 8 * sorted.length);
  buf.writeUInt32LE(VERSION, 0);
  sorted.forEach((e, i) => {
    buf.writeUInt16LE(e.tag, 4 + i * 8);
    buf.writeUInt16LE(e.perm, 6 + i * 8);
    buf.writeUInt32LE(e.id, 8 + i * 8);
  });
  return buf;
}

/** The ACL a plain mode stands for (what the kernel uses when there is no xattr). */
export function aclFromMode(mode: number): AclEntry[] {
  return [
    { tag: TAG.USER_OBJ, perm: (mode >> 6) & 7, id: NO_ID },
    { tag: TAG.GROUP_OBJ, perm: (mode >> 3) & 7, id: NO_ID },
    { tag: TAG.OTHER, perm: mode & 7, id: NO_ID },
  ];
}

const isNamed = (e: AclEntry): boolean => e.tag === TAG.USER || e.tag === TAG.GROUP;

/** The mask is the union of the group class (group owner and named entries), as setfacl computes it. */
function withMask(entries: AclEntry[]): AclEntry[] {
  const rest = entries.filter((e) => e.tag !== TAG.MASK);
  if (!rest.some(isNamed)) return rest;
  const mask = rest.filter((e) => e.tag === TAG.GROUP_OBJ || isNamed(e)).reduce((m, e) => m | e.perm, 0);
  return [...rest, { tag: TAG.MASK, perm: mask, id: NO_ID }];
}

/**
 * `entries` with a search-only entry for uid (none added twice). With an existing mask the
 * group owner's effective bits stay what they were; without one, the new mask carries the
 * group owner's bits plus search.
 */
export function aclGranting(entries: AclEntry[], uid: number): AclEntry[] {
  if (entries.some((e) => e.tag === TAG.USER && e.id === uid)) return entries;
  return withMask([...entries, { tag: TAG.USER, perm: SEARCH, id: uid }]);
}

/** `entries` without uid's entry; undefined when nothing named is left (remove the xattr). */
export function aclRevoking(entries: AclEntry[], uid: number): AclEntry[] | undefined {
  const rest = entries.filter((e) => !(e.tag === TAG.USER && e.id === uid));
  return rest.some(isNamed) ? withMask(rest) : undefined;
}

/** The mode bits a minimal ACL leaves (after removing the xattr, the group bits come back from GROUP_OBJ). */
export function modeOfAcl(entries: AclEntry[]): number {
  const perm = (tag: number): number => entries.find((e) => e.tag === tag)?.perm ?? 0;
  return (perm(TAG.USER_OBJ) << 6) | (perm(TAG.GROUP_OBJ) << 3) | perm(TAG.OTHER);
}

function readAcl(sys: Syscall, dir: string): AclEntry[] {
  const buf = sys.lgetxattr(dir, ACL_XATTR);
  return buf ? decodeAcl(buf) : aclFromMode(fs.statSync(dir).mode);
}

/** Each directory from / down to every target (inclusive) that others may not search. */
export function unsearchableDirs(targets: string[], statMode: (p: string) => number): string[] {
  const out = new Set<string>();
  for (const target of targets) {
    const parts = path.resolve(target).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const dir = '/' + parts.slice(0, i).join('/');
      if ((statMode(dir) & 0o001) === 0) out.add(dir);
    }
  }
  return [...out];
}

/** Grants uid search on every directory leading to each target; returns those it touched. */
export function grantSearch(sys: Syscall, uid: number, targets: string[]): string[] {
  const dirs = unsearchableDirs(targets, (p) => fs.statSync(p).mode);
  for (const dir of dirs) sys.lsetxattr(dir, ACL_XATTR, encodeAcl(aclGranting(readAcl(sys, dir), uid)));
  return dirs;
}

/** Undoes grantSearch on the directories that still exist. */
export function revokeSearch(sys: Syscall, uid: number, dirs: string[]): void {
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    const entries = readAcl(sys, dir);
    const next = aclRevoking(entries, uid);
    if (next) {
      sys.lsetxattr(dir, ACL_XATTR, encodeAcl(next));
    } else {
      sys.lremovexattr(dir, ACL_XATTR);
      // Without the xattr the mode's group bits mean the group owner again, not the mask.
      fs.chmodSync(dir, (fs.statSync(dir).mode & 0o7000) | modeOfAcl(entries));
    }
  }
}
