/**
 * runc's `--preserve-fds N`: the runtime's fds 3..3+N-1 become the container process's fds
 * 3..3+N-1 (podman's socket activation, `podman run --preserve-fds`). They travel to the helper
 * after its control socket (fd 3) and anything else it is given, and the helper moves them
 * back right before execve, when fd 3 is no longer needed. Pure: the plan on both sides.
 */
import { UserError } from '../errors.js';
import type { PreservedFds } from '../plan/types.js';

/** The first descriptor a preserved one has in the caller (runc: after stdio). */
export const FIRST_PRESERVED_FD = 3;

/**
 * What the caller passes: its fds 3..3+count-1, which the helper gets from `first` on
 * (helper fd 3 is the control socket, then `extraBefore` descriptors such as the console
 * socket). `isInherited(fd)` says the descriptor is open and survives exec: one that is not
 * was never passed to us (a Node-internal descriptor sits there), and is refused.
 */
export function planPreservedFds(
  count: number,
  extraBefore: number,
  isInherited: (fd: number) => boolean,
): { pass: number[]; plan?: PreservedFds } {
  if (count === 0) return { pass: [] };
  const pass = Array.from({ length: count }, (_, i) => FIRST_PRESERVED_FD + i);
  for (const fd of pass) {
    if (!isInherited(fd)) throw new UserError(`--preserve-fds ${count}: fd ${fd} is not open (the caller passes fds 3..${2 + count})`);
  }
  return { pass, plan: { first: 4 + extraBefore, count } };
}

/**
 * The dup2 calls, in order, that put the helper's fds first.. at 3..: each target is below
 * its source and every source below a target was moved already, so increasing order never
 * overwrites a descriptor still to be moved.
 */
export function preservedFdMoves(p: PreservedFds): [number, number][] {
  if (p.first <= FIRST_PRESERVED_FD) throw new Error(`preserved fds start at ${p.first}, over the control socket`);
  return Array.from({ length: p.count }, (_, i): [number, number] => [p.first + i, FIRST_PRESERVED_FD + i]);
}
