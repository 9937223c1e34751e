/**
 * Resolving a path inside a root filesystem the way the container will see it, without ever
 * leaving the root (filepath-securejoin's idea). The image is untrusted: `/etc` may be a
 * symlink to `/../../host/etc`; a mount destination must land inside the rootfs all the same.
 * Symlinks are followed with the rootfs as `/`, and `..` stops at the root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

const MAX_SYMLINKS = 40;

/** Returns the host path of `unsafePath` inside `root`, following symlinks within root. */
export function resolveInRoot(root: string, unsafePath: string): string {
  const pending = unsafePath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift()!;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, component);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(candidate);
    } catch {
      // Missing: the rest is taken literally (it will be created under root).
      resolved.push(component);
      continue;
    }
    if (!stat.isSymbolicLink()) {
      resolved.push(component);
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new UserError(`${unsafePath}: too many levels of symbolic links in the image`);
    }
    const target = fs.readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return path.join(root, ...resolved);
}

/**
 * Creates `unsafePath` inside root as a directory or an empty file (with its parents), and
 * returns its host path. Parents are resolved one at a time, so a symlink met on the way is
 * followed inside root, never out of it.
 */
export function ensureInRoot(root: string, unsafePath: string, kind: 'dir' | 'file'): string {
  const target = resolveInRoot(root, unsafePath);
  const relative = path.relative(root, target);
  let current = root;
  const parts = relative === '' ? [] : relative.split(path.sep);
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    // Re-resolve at each step: a component created by us cannot be a symlink, but one that
    // already exists might be.
    current = resolveInRoot(root, path.relative(root, path.join(current, parts[i]!)));
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(current);
    } catch {
      stat = undefined;
    }
    if (stat) continue;
    if (last && kind === 'file') {
      fs.closeSync(fs.openSync(current, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o644));
    } else {
      fs.mkdirSync(current, { mode: 0o755 });
    }
  }
  return current;
}
