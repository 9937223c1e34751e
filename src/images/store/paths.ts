/**
 * Where the image store keeps things, under `imageCacheDir(paths)` (`/var/lib/minipod/images`).
 * docs/images.md has the full layout; every path here is built from a verified hex digest, so
 * no name from an image ever becomes a path.
 */
import path from 'node:path';
import { imageCacheDir, type MinipodPaths } from '../../paths.js';
import { sha256Hex } from '../oci/digest.js';

export interface StoreDirs {
  root: string;
  /** Verified blobs: manifests, configs (compressed layers are deleted once unpacked). */
  blobs: string;
  /** Unpacked layers, keyed by diff id: `<hex>/rootfs` + `entry.json` (store.ts publishOnce). */
  layers: string;
  /** Short symlinks to layer roots, so overlay's one-page mount options fit many layers. */
  links: string;
  /** Image records, keyed by config digest (the image id). */
  records: string;
  /** Names (`docker.io/library/nginx:1.25`) -> image id, one small file per name. */
  refs: string;
  /** Archive files already imported, by the file's sha256 (+ the selected tag). */
  sources: string;
  /** Downloads in progress (`<hex>.partial`, kept for resuming) and archive extractions. */
  tmp: string;
  /** flock(2) target: shared while importing, exclusive for rmi/prune. */
  lock: string;
}

export function storeDirs(paths: MinipodPaths): StoreDirs {
  const root = imageCacheDir(paths);
  return {
    root,
    blobs: path.join(root, 'blobs', 'sha256'),
    layers: path.join(root, 'layers', 'sha256'),
    links: path.join(root, 'l'),
    records: path.join(root, 'records', 'sha256'),
    refs: path.join(root, 'refs'),
    sources: path.join(root, 'sources', 'sha256'),
    tmp: path.join(root, 'tmp'),
    lock: path.join(root, '.lock'),
  };
}

export function blobPath(dirs: StoreDirs, hex: string): string {
  return path.join(dirs.blobs, hex);
}

export function refPath(dirs: StoreDirs, name: string): string {
  return path.join(dirs.refs, `${sha256Hex(name)}.json`);
}

export function recordPath(dirs: StoreDirs, hex: string): string {
  return path.join(dirs.records, `${hex}.json`);
}
