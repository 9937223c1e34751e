/**
 * Reading files of an OCI layout or an extracted archive. An archive's tree was made by our
 * own unpacker from untrusted input, so its files are read only if they are regular files
 * reached without symlinks (a `blobs/sha256/x` symlink to /etc/shadow must not be read);
 * docker archives do use symlinks between their own layer files, which `resolveConfined`
 * follows lexically inside the tree.
 */
import { constants as C, promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { confineName } from '../tar/names.js';

export async function readSmallFile(file: string, max: number, what: string, noFollow: boolean): Promise<Buffer> {
  const fh = await openRegular(file, what, noFollow);
  try {
    const st = await fh.stat();
    if (st.size > max) throw new UserError(`${what}: larger than ${max} bytes`, { code: 'image.too-large' });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

export async function openRegular(file: string, what: string, noFollow: boolean): Promise<fsp.FileHandle> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, C.O_RDONLY | (noFollow ? C.O_NOFOLLOW : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${what}: missing from the image`, { code: 'image.invalid' });
    if (code === 'ELOOP') throw new UserError(`${what}: is a symlink in the archive; refusing to follow it`, { code: 'image.hostile-tar' });
    throw err;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new UserError(`${what}: not a regular file`, { code: 'image.invalid' });
  }
  return fh;
}

/**
 * `name` (from an archive's manifest.json) as a path inside `root`, following symlinks
 * lexically inside the tree (at most 16), never out of it. Parents must be real directories.
 */
export async function resolveConfined(root: string, name: string, what: string): Promise<string> {
  let parts = confineName(name, 4096, `${what} path`);
  for (let hop = 0; hop < 16; hop++) {
    let cur = root;
    for (let i = 0; i < parts.length; i++) {
      cur = path.join(cur, parts[i]!);
      const st = await fsp.lstat(cur).catch(() => null);
      if (st === null) throw new UserError(`${what}: ${name} is missing from the archive`, { code: 'image.invalid' });
      if (st.isSymbolicLink()) {
        const target = await fsp.readlink(cur);
        const base = target.startsWith('/') ? [] : parts.slice(0, i);
        parts = confineName([...base, target, ...parts.slice(i + 1)].join('/'), 4096, `${what} symlink target`);
        break;
      }
      if (i === parts.length - 1) {
        if (!st.isFile()) throw new UserError(`${what}: ${name} is not a regular file`, { code: 'image.invalid' });
        return cur;
      }
      if (!st.isDirectory()) throw new UserError(`${what}: ${name} is not inside a directory`, { code: 'image.invalid' });
    }
  }
  throw new UserError(`${what}: ${name}: too many symlinks`, { code: 'image.hostile-tar' });
}
