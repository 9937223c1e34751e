/**
 * The blob store: `blobs/sha256/<hex>`, each file verified against its name before it is
 * published. Writers fill `tmp/<hex>.partial` under a per-blob flock, verify, then rename:
 * a reader never sees an unverified blob, a crashed download leaves only a partial file that the
 * next pull resumes (registry) or overwrites, and two processes never write the same partial.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { checkDigest, DigestingStream, sha256Hex } from '../oci/digest.js';
import { withLock } from '../../state/lock.js';
import { blobPath, type StoreDirs } from '../../paths.js';
import { exists } from './fsutil.js';
import { UserError } from '../../errors.js';

export async function hasBlob(dirs: StoreDirs, hex: string): Promise<boolean> {
  return exists(blobPath(dirs, hex));
}

export async function readBlob(dirs: StoreDirs, hex: string, max: number, what: string): Promise<Buffer> {
  const file = blobPath(dirs, hex);
  const st = await fsp.stat(file);
  if (st.size > max) throw new UserError(`${what}: larger than ${max} bytes`, { code: 'image.too-large' });
  const data = await fsp.readFile(file);
  // Re-verified on every read: a store edited by hand must not feed us a different config.
  checkDigest(what, hex, sha256Hex(data));
  return data;
}

/**
 * Makes sure blob `hex` is in the store. `fill(partialFile)` writes the content (it may append
 * to what a previous attempt left); the result is verified (size when known, sha256) before
 * the rename publishes it. On a mismatch the partial file is removed and a UserError thrown.
 */
export async function ensureBlob(
  dirs: StoreDirs,
  hex: string,
  size: number | undefined,
  what: string,
  fill: (partial: string) => Promise<void>,
): Promise<string> {
  const final = blobPath(dirs, hex);
  if (await exists(final)) return final;
  await fsp.mkdir(dirs.blobs, { recursive: true, mode: 0o700 });
  await fsp.mkdir(dirs.tmp, { recursive: true, mode: 0o700 });
  const partial = path.join(dirs.tmp, `${hex}.partial`);
  return withLock(path.join(dirs.tmp, `${hex}.lock`), 'exclusive', `the download of ${what}`, async () => {
    if (await exists(final)) return final; // another process finished it while we waited
    try {
      await fill(partial);
      const st = await fsp.stat(partial);
      if (size !== undefined && st.size !== size) {
        throw new UserError(`${what}: ${st.size} bytes where its descriptor says ${size}: truncated or tampered`, {
          code: 'image.digest-mismatch',
        });
      }
      const d = new DigestingStream();
      await pipeline(createReadStream(partial), d, async (src: AsyncIterable<Buffer>) => {
        for await (const _ of src) {
          /* hashing only */
        }
      });
      checkDigest(what, hex, d.hex());
      await fsp.rename(partial, final);
      return final;
    } catch (err) {
      // A mismatch means the bytes are bad: never resume from them.
      if (err instanceof UserError) await fsp.rm(partial, { force: true });
      throw err;
    }
    // The lock file stays: unlinking a flock'd file lets a waiter lock a dead inode while a
    // newcomer locks a fresh one. `image prune` removes them under the exclusive store lock.
  });
}

/** Copies `src` into the partial file (truncating it): for local sources (layouts, archives). */
export function copyFrom(open: () => Readable, limit: number, what: string): (partial: string) => Promise<void> {
  return async (partial) => {
    const out = (await import('node:fs')).createWriteStream(partial, { mode: 0o600 });
    await pipeline(open(), new DigestingStream(limit, what), out);
  };
}

export async function writeBlob(dirs: StoreDirs, data: Buffer, what: string): Promise<string> {
  const hex = sha256Hex(data);
  await ensureBlob(dirs, hex, data.length, what, async (partial) => fsp.writeFile(partial, data, { mode: 0o600 }));
  return hex;
}
