/**
 * Unpacked layers: `layers/sha256/<diffid>/rootfs`, each unpacked once from its blob with OCI
 * whiteouts turned into overlayfs ones, published atomically by publishOnce (publish.ts). The
 * uncompressed stream is hashed while it is unpacked and must equal the config's diff id, so a
 * layer is only ever published under the digest of exactly what it contains.
 *
 * `l/<short>` symlinks point at layer roots: overlay's mount options must fit in one page, and
 * 30 layers of `/var/lib/minipod/images/layers/sha256/<64 hex>/rootfs` would not.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../../errors.js';
import { sniffFile } from '../sniff.js';
import { ENTRY_ROOTFS, ENTRY_META, publishOnce } from './publish.js';
import { unpackTar, type UnpackLimits, type UnpackStats } from '../tar/unpack.js';
import { checkDigest, DigestingStream } from '../oci/digest.js';
import type { LayerCompression } from '../oci/spec.js';
import type { StoreDirs } from '../../paths.js';

export interface LayerEntryMeta {
  kind: 'layer';
  diffId: string;
  /** The blob it was unpacked from (compressed digest), informational. */
  blobDigest?: string;
  compression: LayerCompression;
  unpackedAt: string;
  stats: UnpackStats;
}

export function layerRoot(dirs: StoreDirs, diffHex: string): string {
  return path.join(dirs.layers, diffHex, ENTRY_ROOTFS);
}

export async function layerMeta(dirs: StoreDirs, diffHex: string): Promise<LayerEntryMeta | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dirs.layers, diffHex, ENTRY_META), 'utf8')) as LayerEntryMeta;
  } catch {
    return null;
  }
}

/**
 * Unpacks the blob file into the layer store unless the layer is there already. `declared`
 * is what the media type says; the content's magic bytes must agree (a "gzip" layer that is
 * plain tar is accepted, as containerd does, but zstd is refused whatever it claims).
 */
export async function ensureLayer(
  dirs: StoreDirs,
  diffHex: string,
  blobFile: () => Promise<string>,
  declared: LayerCompression,
  what: string,
  opts: { blobDigest?: string; limits?: UnpackLimits } = {},
): Promise<LayerEntryMeta> {
  return publishOnce<LayerEntryMeta>(dirs.layers, diffHex, async (rootfs) => {
    const file = await blobFile();
    const sniffed = await sniffFile(file);
    const actual: LayerCompression | 'other' =
      sniffed.compression === 'gzip' ? 'gzip' : sniffed.compression === 'zstd' ? 'zstd' : sniffed.compression === 'none' ? 'none' : 'other';
    if (actual === 'zstd' || declared === 'zstd') {
      throw new UserError(
        `${what}: zstd-compressed layers are not supported (Node 20's zlib has no zstd); convert the image with "skopeo copy --dest-compress-format gzip"`,
        { code: 'image.unsupported' },
      );
    }
    if (actual === 'other')
      throw new UserError(`${what}: ${sniffed.compression}-compressed layers are not supported`, { code: 'image.unsupported' });
    const hasher = new DigestingStream();
    // The compressed bytes are hashed too when their digest is known (manifest-based images).
    const raw = new DigestingStream();
    const read = createReadStream(file);
    const tar: Readable = actual === 'gzip' ? pipeline(read, raw, createGunzip(), hasher, () => {}) : pipeline(read, raw, hasher, () => {});
    let stats: UnpackStats;
    try {
      stats = await unpackTar(tar, rootfs, { ...opts.limits, whiteouts: 'overlay' });
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${what}: ${err.message}`, { code: err.code, cause: err });
      throw err;
    }
    // unpackTar returns once the whole stream went through (it checks the archive's tail).
    if (opts.blobDigest) checkDigest(what, opts.blobDigest.slice('sha256:'.length), raw.hex());
    checkDigest(`${what} (uncompressed)`, diffHex, hasher.hex());
    return {
      kind: 'layer',
      diffId: `sha256:${diffHex}`,
      blobDigest: opts.blobDigest,
      compression: actual,
      unpackedAt: new Date().toISOString(),
      stats,
    };
  });
}

/**
 * A short path for the layer root: `l/<first 16 hex>`, or the full 64 in the (hostile) case
 * that another layer already has those 16. The link is relative, so the store can be moved.
 */
export async function layerLink(dirs: StoreDirs, diffHex: string): Promise<string> {
  await fsp.mkdir(dirs.links, { recursive: true, mode: 0o700 });
  const target = path.join('..', 'layers', 'sha256', diffHex, ENTRY_ROOTFS);
  for (const len of [16, 64]) {
    const link = path.join(dirs.links, diffHex.slice(0, len));
    let current: string | null = null;
    try {
      current = await fsp.readlink(link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    }
    if (current === target) return link;
    if (current !== null && len < 64) continue;
    const tmp = `${link}.${process.pid}.tmp`;
    await fsp.rm(tmp, { force: true });
    await fsp.symlink(target, tmp);
    await fsp.rename(tmp, link); // atomic replace; a racing writer of the same link writes the same target
    return link;
  }
  throw new Error('unreachable');
}
