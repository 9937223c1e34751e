/**
 * Mounts the supervisor makes on the host for a pod (the shared /dev/shm, memory-backed
 * emptyDirs) and how they are found again: from /proc/self/mountinfo, so teardown after a
 * crash needs no record of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MNT, MS } from '../../native-bindings/constants.js';
import type { Syscall } from '../syscall/syscall.js';

/** Mount points (decoded) of the current mount namespace. */
export function mountPoints(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** Mount points at or below any of `dirs`, deepest first so children go before parents. */
export function mountsUnder(dirs: string[], points = mountPoints()): string[] {
  const inside = (p: string): boolean => dirs.some((d) => p === d || p.startsWith(d.endsWith('/') ? d : `${d}/`));
  return points.filter(inside).sort((a, b) => b.split('/').length - a.split('/').length);
}

export function mountTmpfs(sys: Syscall, target: string, options: string): void {
  fs.mkdirSync(target, { recursive: true });
  sys.mount('tmpfs', target, 'tmpfs', MS.NOSUID | MS.NODEV, options);
}

/** Unmounts everything below dirs; returns the mount points it could not remove. */
export function unmountAllUnder(sys: Syscall, dirs: string[]): string[] {
  const failed: string[] = [];
  for (const point of mountsUnder(dirs.map((d) => path.resolve(d)))) {
    try {
      sys.umount2(point, MNT.DETACH);
    } catch {
      failed.push(point);
    }
  }
  return failed;
}
