/**
 * `image:` naming a rootfs tarball (`.tar`, `.tar.gz`/`.tgz`, any name: the content decides):
 * unpacked once into the store, keyed by the sha256 of the file, and used as the single lower
 * dir. `docker export` / `podman export` output is such a tarball.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isUserError, withContext } from '../errors.js';
import { storeDirs } from '../paths.js';
import { writeFileAtomicAsync } from '../state/lock.js';
import { checkLowerDirPath } from './rootfs-dir.js';
import type { Compression } from './sniff.js';
import { ENTRY_ROOTFS, publishOnce } from './store/publish.js';
import { unpackTar, type UnpackLimits, type UnpackStats } from './tar/unpack.js';
import type { ResolveContext, ResolvedImage } from './types.js';

/** Recorded as the store entry's entry.json. */
export interface RootfsEntryMeta {
  kind: 'rootfs-tar';
  digest: string;
  /** The file it was first unpacked from (informational: the digest is the identity). */
  source: string;
  compression: Compression;
  unpackedAt: string;
  stats: UnpackStats;
}

export async function resolveRootfsTarball(
  ctx: ResolveContext,
  file: string,
  compression: Compression,
  limits: UnpackLimits = {},
): Promise<ResolvedImage> {
  if (compression !== 'none' && compression !== 'gzip') {
    throw ctx.fail(`${ctx.image}: ${compression}-compressed tarballs are not supported yet (use .tar or .tar.gz)`, 'image.unsupported');
  }
  const storeDir = storeDirs(ctx.paths).rootfs;
  const hex = await cachedSha256(file, storeDir);
  try {
    await publishOnce<RootfsEntryMeta>(storeDir, hex, async (rootfs) => {
      const stats = await unpackVerified(file, hex, compression, rootfs, limits);
      await refuseImageArchives(ctx, rootfs);
      return { kind: 'rootfs-tar', digest: `sha256:${hex}`, source: file, compression, unpackedAt: new Date().toISOString(), stats };
    });
  } catch (err) {
    if (isUserError(err)) throw ctx.fail(`${ctx.image}: ${err.message}`, err.code, err);
    throw withContext(`unpack image ${file}`, err);
  }
  const lower = path.join(storeDir, hex, ENTRY_ROOTFS);
  checkLowerDirPath(ctx, lower);
  return { id: `sha256:${hex}`, layers: [lower], config: {} };
}

/**
 * The file's sha256, remembered by its identity on disk so an unchanged tarball is not read
 * again on every start (~5-15 ms for a few MB). The key includes ctime, which any write or
 * utimes() moves and no unprivileged user can set back; the digest is still checked against
 * the bytes whenever the tarball is unpacked (unpackVerified).
 */
async function cachedSha256(file: string, storeDir: string): Promise<string> {
  const st = await fsp.stat(file, { bigint: true });
  const key = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('-');
  const indexFile = path.join(path.dirname(storeDir), 'by-stat', key);
  try {
    const hex = (await fsp.readFile(indexFile, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return hex;
  } catch {
    // Not seen yet.
  }
  const hex = await sha256File(file);
  await writeFileAtomicAsync(indexFile, hex);
  return hex;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Unpacks while hashing the bytes actually read: if the file changed since it was hashed, the
 * content would not match its key, so the unpack is refused (and nothing is published).
 */
async function unpackVerified(
  file: string,
  hex: string,
  compression: Compression,
  rootfs: string,
  limits: UnpackLimits,
): Promise<UnpackStats> {
  const hasher = new HashingStream();
  const read = createReadStream(file);
  // pipeline() destroys every stage on error, so a read or gunzip error reaches the unpacker.
  const tar: Readable = compression === 'gzip' ? pipeline(read, hasher, createGunzip(), () => {}) : pipeline(read, hasher, () => {});
  const stats = await unpackTar(tar, rootfs, { ...limits, whiteouts: 'keep' });
  if (hasher.hex() !== hex) throw new Error(`${file} changed while it was being unpacked; try again`);
  return stats;
}

class HashingStream extends Transform {
  private readonly h = createHash('sha256');
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.h.update(chunk);
    cb(null, chunk);
  }
  hex(): string {
    return this.h.digest('hex');
  }
}

/**
 * `podman save` / `docker save` / skopeo write archives of layers, not root filesystems; they
 * unpack "fine" into a useless tree. Recognise them by their content and say what to do.
 */
async function refuseImageArchives(ctx: ResolveContext, rootfs: string): Promise<void> {
  const names = new Set(await fsp.readdir(rootfs));
  if (names.has('oci-layout') && names.has('index.json')) {
    throw ctx.fail(`${ctx.image}: this is an OCI archive, not a root filesystem: use oci-archive:FILE`, 'image.unsupported');
  }
  if (names.has('manifest.json') && !names.has('etc') && !names.has('bin') && !names.has('usr')) {
    throw ctx.fail(
      `${ctx.image}: this is a docker/podman save archive, not a root filesystem: use docker-archive:FILE`,
      'image.unsupported',
    );
  }
  if (names.size === 0) throw ctx.fail(`${ctx.image}: the tarball is empty`, 'image.invalid');
}
