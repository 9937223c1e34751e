/**
 * The two libc calls the unpacker needs that Node lacks: mknod (overlayfs whiteouts are char
 * devices 0/0) and lsetxattr (file capabilities from tar pax records, the overlayfs opaque
 * marker). Loaded lazily through koffi so plain rootfs unpacking never touches FFI.
 */
import { SyscallError } from '../../errors.js';

interface Libc {
  mknod: (path: string, mode: number, dev: number) => number;
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  errno: () => number;
}

let libc: Libc | undefined;

async function load(): Promise<Libc> {
  if (libc) return libc;
  const koffi = (await import('koffi')).default;
  const lib = koffi.load('libc.so.6');
  libc = {
    // glibc >= 2.33 exports mknod itself (no __xmknod wrapper); Debian 12 has 2.36.
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

const S_IFCHR = 0o020000;

/** Creates the overlayfs whiteout for `path`: a character device 0/0. */
export async function mknodWhiteout(path: string): Promise<void> {
  const c = await load();
  if (c.mknod(path, S_IFCHR, 0) !== 0) throw new SyscallError('mknod', c.errno(), path);
}

export async function lsetxattr(path: string, name: string, value: Buffer): Promise<void> {
  const c = await load();
  if (c.lsetxattr(path, name, value, value.length, 0) !== 0) {
    throw new SyscallError('lsetxattr', c.errno(), `${path} ${name}`);
  }
}
