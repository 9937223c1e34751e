import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureInRoot, resolveInRoot } from '../../../src/rootfs/secure-join.js';
import { mountsUnder } from '../../../src/pod/host-mounts.js';

let root: string;
beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-join-'))));
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveInRoot', () => {
  it('keeps .. and absolute symlinks inside the root', () => {
    fs.mkdirSync(path.join(root, 'a'));
    fs.symlinkSync('/etc', path.join(root, 'a/abs'));
    fs.symlinkSync('../../../../..', path.join(root, 'a/up'));
    expect(resolveInRoot(root, '/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveInRoot(root, '/a/abs/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveInRoot(root, '/a/up/x')).toBe(path.join(root, 'x'));
  });
  it('refuses symlink loops', () => {
    fs.symlinkSync('loop', path.join(root, 'loop'));
    expect(() => resolveInRoot(root, '/loop/x')).toThrow(/symbolic links/);
  });
});

describe('ensureInRoot', () => {
  it('creates dirs and files behind symlinks without leaving the root', () => {
    fs.symlinkSync('/real', path.join(root, 'etc'));
    const file = ensureInRoot(root, '/etc/deep/hosts', 'file');
    expect(file).toBe(path.join(root, 'real/deep/hosts'));
    expect(fs.statSync(file).isFile()).toBe(true);
  });
});

describe('mountsUnder', () => {
  it('finds mounts below a dir, deepest first, and not siblings with the same prefix', () => {
    const points = ['/', '/run/minipod/pods/a/shm', '/run/minipod/pods/a', '/run/minipod/pods/ab/shm', '/run/minipod/pods/a/v/x'];
    expect(mountsUnder(['/run/minipod/pods/a'], points)).toEqual([
      '/run/minipod/pods/a/v/x',
      '/run/minipod/pods/a/shm',
      '/run/minipod/pods/a',
    ]);
  });
});
