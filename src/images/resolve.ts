/**
 * resolveImage: from a container's `image` string to overlay lower dirs and an image config.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import {
  looksLikeRegistryRef,
  pinnedUnderLock,
  prefixKind,
  resolveDockerArchiveFile,
  resolveOciArchiveFile,
  resolveOciLayout,
  resolveRegistry,
} from './kinds.js';
import { detectTarKind } from './sources/detect.js';
import { resolveRootfsDir } from './rootfs-dir.js';
import { resolveRootfsTarball } from './rootfs-tarball.js';
import { sniffFile } from './sniff.js';
import type { ResolveContext, ResolvedImage, ResolveImageOptions } from './types.js';

export async function resolveImage(image: string, opts: ResolveImageOptions): Promise<ResolvedImage> {
  const field = opts.fieldPath ?? 'image';
  const ctx: ResolveContext = {
    ...opts,
    image,
    fail: (message, code, cause) => new UserError(`${field}: ${message}`, { code, cause }),
  };
  if (image.trim() === '') throw ctx.fail('must not be empty', 'image.invalid');

  const prefixed = prefixKind(image);
  if (prefixed) return prefixed.kind.resolve(ctx, prefixed.rest);

  const abs = path.resolve(opts.manifestDir, image);
  let st: import('node:fs').Stats;
  try {
    st = await fsp.stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const shown = abs === image ? image : `${image} (${abs})`;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // `nginx` is a registry image unless the manifest's folder has a file of that name.
      if (looksLikeRegistryRef(image)) return resolveRegistry(ctx, image);
      throw ctx.fail(`${shown}: no such file or directory`, 'image.not-found');
    }
    if (code === 'EACCES') throw ctx.fail(`${shown}: permission denied`, 'image.not-found');
    throw err;
  }

  if (st.isDirectory()) {
    const isLayout = await fsp.lstat(path.join(abs, 'oci-layout')).then(
      (s) => s.isFile(),
      () => false,
    );
    return isLayout ? resolveOciLayout(ctx, abs) : resolveRootfsDir(ctx, abs);
  }
  if (!st.isFile()) throw ctx.fail(`${image}: not a directory or a regular file`, 'image.invalid');

  const sniffed = await sniffFile(abs);
  if (sniffed.compression === 'none' && !sniffed.isTar) {
    throw ctx.fail(`${image}: not a tar archive (expected a rootfs directory, .tar or .tar.gz)`, 'image.invalid');
  }
  // The content decides: an image archive is imported, anything else is a root filesystem.
  const kind = await detectTarKind(abs, sniffed.compression);
  if (kind === 'oci-archive') return resolveOciArchiveFile(ctx, abs, undefined);
  if (kind === 'docker-archive') return resolveDockerArchiveFile(ctx, abs, undefined);
  return pinnedUnderLock(ctx, () => resolveRootfsTarball(ctx, abs, sniffed.compression));
}
