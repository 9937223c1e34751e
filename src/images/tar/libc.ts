/**
 * The two calls the unpacker needs that Node lacks: mknod (overlayfs whiteouts are char
 * devices 0/0) and lsetxattr (the overlayfs opaque marker), through the Syscall seam.
 */
import { hostSyscall } from '../../syscall/linux.js';

const S_IFCHR = 0o020000;

/** Creates the overlayfs whiteout for `path`: a character device 0/0. */
export async function mknodWhiteout(path: string): Promise<void> {
  hostSyscall().mknod(path, S_IFCHR, 0, 0);
}

export async function lsetxattr(path: string, name: string, value: Buffer): Promise<void> {
  hostSyscall().lsetxattr(path, name, value);
}
