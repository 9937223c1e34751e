/**
 * The two calls the unpacker needs that Node lacks: mknod (overlayfs whiteouts are char
 * devices 0/0) and lsetxattr (the overlayfs opaque marker), through native-bindings.
 */
import { libc } from '../../../native-bindings/libc.js';
import { SyscallError } from '../../errors.js';

const S_IFCHR = 0o020000;

/** Creates the overlayfs whiteout for `path`: a character device 0/0. */
export async function mknodWhiteout(path: string): Promise<void> {
  if (libc().mknod(path, S_IFCHR, 0n) !== 0) throw new SyscallError('mknod', libc().errno(), path);
}

export async function lsetxattr(path: string, name: string, value: Buffer): Promise<void> {
  if (libc().lsetxattr(path, name, value, value.length, 0) !== 0) {
    throw new SyscallError('lsetxattr', libc().errno(), `${path} ${name}`);
  }
}
