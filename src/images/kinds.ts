/**
 * The table of image kinds. `image:` is classified in three steps:
 * 1. by prefix, for the transports podman spells explicitly (`oci:`, `oci-archive:`,
 *    `docker-archive:`, `docker://`);
 * 2. otherwise as a path (relative to the manifest's folder): a directory (a root filesystem,
 *    or an OCI layout when it has an `oci-layout` file), or a file whose content (magic bytes
 *    and top-level names, not its file name) says what it is (resolve.ts);
 * 3. a string that is no existing path but parses as a registry reference (`nginx`,
 *    `docker.io/library/nginx:1.25`, `localhost:5000/app@sha256:...`) is a registry image.
 */
import path from 'node:path';
import { pinImage } from './store/gc.js';
import { mkdirAll, withLock } from '../state/lock.js';
import { isUserError } from '../errors.js';
import { toResolved } from './import.js';
import { defaultPullPolicy, localImage, pullImage } from './registry/pull.js';
import { parseReference } from './registry/reference.js';
import { importArchive } from './sources/archive.js';
import { importDockerTree } from './sources/docker-archive.js';
import { importOciLayout, splitPathTag } from './sources/oci-layout.js';
import { storeDirs } from '../paths.js';
import type { ImageRecord } from './store/records.js';
import type { ResolveContext, ResolvedImage } from './types.js';

export interface PrefixKind {
  prefix: string;
  name: string;
  resolve(ctx: ResolveContext, rest: string): Promise<ResolvedImage>;
}

/** Runs `body` under the store's shared lock and pins the image it returns (rootfs tarballs). */
export async function pinnedUnderLock(ctx: ResolveContext, body: () => Promise<ResolvedImage>): Promise<ResolvedImage> {
  const dirs = storeDirs(ctx.paths);
  mkdirAll(dirs.root, 0o700);
  return withLock(dirs.lock, 'shared', 'the image store (an rmi or prune is running)', async () => {
    const r = await body();
    await pinImage(dirs, r.id, ctx.pinOwner);
    return r;
  });
}

/**
 * Runs an import under the store's shared lock (rmi/prune wait), prefixing its UserErrors
 * with the field path, and pins the image for this process (gc.ts) so a prune cannot remove
 * it before the pod's state names it.
 */
async function resolving(ctx: ResolveContext, body: () => Promise<ImageRecord>): Promise<ResolvedImage> {
  const dirs = storeDirs(ctx.paths);
  mkdirAll(dirs.root, 0o700);
  return withLock(dirs.lock, 'shared', 'the image store (an rmi or prune is running)', async () => {
    let rec: ImageRecord;
    try {
      rec = await body();
    } catch (err) {
      if (isUserError(err)) throw ctx.fail(err.message, err.code, err);
      throw err;
    }
    await pinImage(dirs, rec.id, ctx.pinOwner);
    return toResolved(ctx, dirs, rec);
  });
}

export function resolveOciLayout(ctx: ResolveContext, rest: string): Promise<ResolvedImage> {
  const { file, tag } = splitPathTag(rest);
  const dir = path.resolve(ctx.manifestDir, file);
  const source = `oci:${dir}${tag !== undefined ? `:${tag}` : ''}`;
  return resolving(ctx, () => importOciLayout(storeDirs(ctx.paths), dir, tag, { noFollow: false, source }, ctx.progress));
}

export function resolveOciArchive(ctx: ResolveContext, rest: string): Promise<ResolvedImage> {
  const { file, tag } = splitPathTag(rest);
  return resolveOciArchiveFile(ctx, path.resolve(ctx.manifestDir, file), tag);
}

export function resolveOciArchiveFile(ctx: ResolveContext, abs: string, tag: string | undefined): Promise<ResolvedImage> {
  const source = `oci-archive:${abs}${tag !== undefined ? `:${tag}` : ''}`;
  const dirs = storeDirs(ctx.paths);
  return resolving(ctx, () =>
    importArchive(dirs, abs, tag, source, (tree) => importOciLayout(dirs, tree, tag, { noFollow: true, source }, ctx.progress)),
  );
}

/** `docker-archive:FILE[:NAME[:TAG]]`: the part after the file is a name from RepoTags. */
export function resolveDockerArchive(ctx: ResolveContext, rest: string): Promise<ResolvedImage> {
  const m = /^(.*?\.(?:tar|tar\.gz|tgz))(?::(.+))?$/.exec(rest);
  let file = rest;
  let selector: string | undefined;
  if (m) {
    file = m[1]!;
    selector = m[2];
  }
  return resolveDockerArchiveFile(ctx, path.resolve(ctx.manifestDir, file), selector);
}

export function resolveDockerArchiveFile(ctx: ResolveContext, abs: string, selector: string | undefined): Promise<ResolvedImage> {
  const source = `docker-archive:${abs}${selector !== undefined ? `:${selector}` : ''}`;
  const dirs = storeDirs(ctx.paths);
  return resolving(ctx, () =>
    importArchive(dirs, abs, selector, source, (tree) => importDockerTree(dirs, tree, selector, source, ctx.progress)),
  );
}

export function resolveRegistry(ctx: ResolveContext, rest: string): Promise<ResolvedImage> {
  return resolving(ctx, async () => {
    const ref = parseReference(rest);
    const dirs = storeDirs(ctx.paths);
    const policy = ctx.pullPolicy ?? defaultPullPolicy(ref);
    if (policy !== 'Always') {
      const local = await localImage(dirs, ref.name);
      if (local) return local;
      if (policy === 'Never') {
        const { UserError } = await import('../errors.js');
        throw new UserError(`${ref.name} is not in the local store and imagePullPolicy is Never (minipod pull ${rest})`, {
          code: 'image.not-found',
        });
      }
    }
    return pullImage(dirs, ref, ctx.progress, { pullSecrets: ctx.pullSecrets });
  });
}

export const PREFIX_KINDS: readonly PrefixKind[] = [
  { prefix: 'oci:', name: 'oci-layout', resolve: resolveOciLayout },
  { prefix: 'oci-archive:', name: 'oci-archive', resolve: resolveOciArchive },
  { prefix: 'docker-archive:', name: 'docker-archive', resolve: resolveDockerArchive },
  { prefix: 'docker://', name: 'registry', resolve: resolveRegistry },
];

export function prefixKind(image: string): { kind: PrefixKind; rest: string } | null {
  for (const kind of PREFIX_KINDS) {
    if (image.startsWith(kind.prefix)) return { kind, rest: image.slice(kind.prefix.length) };
  }
  return null;
}

export { looksLikeRegistryRef } from './registry/reference.js';
