/**
 * Archives of images (`oci-archive:`, `docker-archive:`): extracted with the safe unpacker
 * into a private temp dir of the store, imported, and the temp dir removed. An archive is
 * identified by its sha256 (plus the tag asked for), so running the same archive again reads it
 * once to hash it and imports nothing.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../../errors.js';
import { sha256Hex, sha256OfFile } from '../oci/digest.js';
import { sniffFile } from '../sniff.js';
import { unpackTar } from '../tar/unpack.js';
import type { StoreDirs } from '../../paths.js';
import { readRecord, readSource, recordComplete, writeSource, type ImageRecord } from '../store/records.js';

export async function importArchive(
  dirs: StoreDirs,
  file: string,
  selector: string | undefined,
  what: string,
  importTree: (tree: string) => Promise<ImageRecord>,
): Promise<ImageRecord> {
  const st = await fsp.stat(file).catch(() => null);
  if (!st) throw new UserError(`${what}: no such file`, { code: 'image.not-found' });
  if (!st.isFile()) throw new UserError(`${what}: not a regular file`, { code: 'image.invalid' });
  const fileHex = await sha256OfFile(file);
  const key = selector === undefined ? fileHex : `${fileHex}-${sha256Hex(selector).slice(0, 16)}`;
  const known = await readSource(dirs, key);
  if (known) {
    const rec = await readRecord(dirs, known.slice(7));
    if (rec && (await recordComplete(dirs, rec))) return rec;
  }
  const sniffed = await sniffFile(file);
  if (sniffed.compression !== 'none' && sniffed.compression !== 'gzip') {
    throw new UserError(`${what}: ${sniffed.compression}-compressed archives are not supported (use a plain or gzip tarball)`, {
      code: 'image.unsupported',
    });
  }
  await fsp.mkdir(dirs.tmp, { recursive: true, mode: 0o700 });
  const tmp = path.join(dirs.tmp, `extract-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(tmp, { mode: 0o700 });
  try {
    const read = createReadStream(file);
    const tar: Readable = sniffed.compression === 'gzip' ? pipeline(read, createGunzip(), () => {}) : read;
    try {
      // No chown: the tree is only read by us; whiteouts stay plain names (not a rootfs).
      await unpackTar(tar, tmp, { chown: false, whiteouts: 'keep' });
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${what}: ${err.message}`, { code: err.code, cause: err });
      throw err;
    }
    const rec = await importTree(tmp);
    await writeSource(dirs, key, rec.id);
    return rec;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
