import { execFileSync } from 'node:child_process';
import { promises as fsp, writeFileSync, mkdirSync, statSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackTar, type UnpackOptions } from '../../../src/images/index.js';
import { gzip, isRoot, listTree, makeTar, tempDir, type TarEntry } from './helpers.js';

let base: string;
let cleanup: () => void;
let root: string;
let sentinel: string;

beforeEach(() => {
  ({ dir: base, cleanup } = tempDir());
  root = path.join(base, 'unpack');
  sentinel = path.join(base, 'sentinel');
  mkdirSync(root);
  mkdirSync(sentinel);
});
afterEach(() => cleanup());

async function unpack(entries: TarEntry[], opts: UnpackOptions = {}) {
  return unpackTar(Readable.from([await makeTar(entries)]), root, opts);
}

/** Nothing may appear next to the unpack dir or inside the sentinel dir. */
async function expectNothingOutside(): Promise<void> {
  expect(await fsp.readdir(sentinel)).toEqual([]);
  expect((await fsp.readdir(base)).sort()).toEqual(['sentinel', 'unpack']);
}

describe('unpackTar: hostile archives', () => {
  it('refuses ../ paths', async () => {
    await expect(unpack([{ name: '../sentinel/pwned', body: 'x' }])).rejects.toThrow(/escapes the image root/);
    await expect(unpack([{ name: 'a/../../sentinel/pwned', body: 'x' }])).rejects.toThrow(/escapes/);
    await expect(unpack([{ name: '/../sentinel/pwned', body: 'x' }])).rejects.toThrow(/escapes/);
    await expectNothingOutside();
  });

  it('confines absolute paths into the root', async () => {
    await unpack([
      { name: `${sentinel}/pwned`, body: 'x' },
      { name: '/etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
    ]);
    await expectNothingOutside();
    expect(await fsp.readFile(path.join(root, 'etc/passwd'), 'utf8')).toContain('root:x:0:0');
    expect(await fsp.readFile(path.join(root, sentinel.slice(1), 'pwned'), 'utf8')).toBe('x');
  });

  it.each([
    ['absolute', () => sentinel],
    ['relative', () => '../sentinel'],
  ])('never writes through an %s symlink pointing out of the tree', async (_kind, target) => {
    await expect(
      unpack([
        { name: 'link', type: 'symlink', linkname: target() },
        { name: 'link/pwned', body: 'pwned' },
      ]),
    ).rejects.toThrow(/is a symlink; refusing to write through it/);
    await expect(
      unpack([
        { name: 'd/link', type: 'symlink', linkname: target() },
        { name: 'd/link/sub/pwned', type: 'directory' },
      ]),
    ).rejects.toThrow(/symlink/);
    await expectNothingOutside();
  });

  it('replaces a symlink by a later file of the same name instead of following it', async () => {
    await unpack([
      { name: 'link', type: 'symlink', linkname: path.join(sentinel, 'pwned') },
      { name: 'link', body: 'replaced' },
      { name: 'dirlink', type: 'symlink', linkname: sentinel },
      { name: 'dirlink', type: 'directory' },
    ]);
    await expectNothingOutside();
    expect(lstatSync(path.join(root, 'link')).isFile()).toBe(true);
    expect(lstatSync(path.join(root, 'dirlink')).isDirectory()).toBe(true);
  });

  it('creates symlinks verbatim, whatever they point at', async () => {
    const stats = await unpack([
      { name: 'abs', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'rel', type: 'symlink', linkname: '../../../../etc/shadow' },
    ]);
    expect(await fsp.readlink(path.join(root, 'abs'))).toBe('/etc/shadow');
    expect(await fsp.readlink(path.join(root, 'rel'))).toBe('../../../../etc/shadow');
    expect(stats.symlinks).toBe(2);
    await expectNothingOutside();
  });

  it('refuses hard links to files outside the tree', async () => {
    const outside = path.join(base, 'sentinel-secret');
    writeFileSync(outside, 'secret');
    try {
      await expect(unpack([{ name: 'h', type: 'link', linkname: '/etc/passwd' }])).rejects.toThrow(
        /not a regular file already in the archive/,
      );
      await expect(unpack([{ name: 'h', type: 'link', linkname: '../../x' }])).rejects.toThrow(/escapes/);
      await expect(unpack([{ name: 'h', type: 'link', linkname: '../sentinel-secret' }])).rejects.toThrow(/escapes/);
      // Through a symlink to a directory outside, or to a symlink pointing at a file outside.
      await expect(
        unpack([
          { name: 'd', type: 'symlink', linkname: base },
          { name: 'h', type: 'link', linkname: 'd/sentinel-secret' },
        ]),
      ).rejects.toThrow(/hard link target/);
      await expect(
        unpack([
          { name: 's', type: 'symlink', linkname: outside },
          { name: 'h2', type: 'link', linkname: 's' },
        ]),
      ).rejects.toThrow(/hard link target/);
      expect(statSync(outside).nlink).toBe(1);
    } finally {
      await fsp.rm(outside);
    }
    await expectNothingOutside();
  });

  it('makes hard links to files inside the tree', async () => {
    const stats = await unpack([
      { name: 'bin/busybox', body: 'ELF' },
      { name: 'bin/sh', type: 'link', linkname: './bin/busybox' },
    ]);
    expect(statSync(path.join(root, 'bin/sh')).ino).toBe(statSync(path.join(root, 'bin/busybox')).ino);
    expect(stats.hardlinks).toBe(1);
  });

  it('refuses a regular file used as a parent directory', async () => {
    await expect(
      unpack([
        { name: 'f', body: 'x' },
        { name: 'f/g', body: 'y' },
      ]),
    ).rejects.toThrow(/not a directory/);
  });

  it('does not create device nodes or fifos', async () => {
    const stats = await unpack([
      { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o666 },
      { name: 'dev/mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'fifo', type: 'fifo' },
    ]);
    expect(stats.skippedDevices).toBe(4);
    expect(await listTree(root)).toEqual([]);
    await expectNothingOutside();
  });
});

describe('unpackTar: limits and broken archives', () => {
  it('bounds entries, bytes and path length', async () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: '' }));
    await expect(unpack(many, { maxEntries: 10 })).rejects.toThrow(/more than 10 entries/);
    await expect(unpack([{ name: 'big', body: Buffer.alloc(2000) }], { maxBytes: 1000 })).rejects.toThrow(/exceeds the limit/);
    await expect(unpack([{ name: 'a/'.repeat(100) + 'f', body: '' }], { maxPathBytes: 100 })).rejects.toThrow(/longer than 100 bytes/);
    await expect(unpack([{ name: 'x'.repeat(300), body: '' }])).rejects.toThrow(/component longer than 255/);
  });

  it('refuses a truncated tarball (mid-entry and at an entry boundary)', async () => {
    const tar = await makeTar([
      { name: 'a', body: Buffer.alloc(5000, 1) },
      { name: 'b', body: 'b' },
    ]);
    await expect(unpackTar(Readable.from([tar.subarray(0, 3000)]), root)).rejects.toThrow(
      /not a valid tar archive: Unexpected end of data/,
    );
    await fsp.rm(root, { recursive: true });
    mkdirSync(root);
    // Header (512) + 5000 bytes padded to 5120: cut exactly after the first entry.
    await expect(unpackTar(Readable.from([tar.subarray(0, 512 + 5120)]), root)).rejects.toThrow(/end-of-archive marker/);
  });

  it('refuses garbage', async () => {
    await expect(unpackTar(Readable.from([Buffer.alloc(4096, 7)]), root)).rejects.toThrow(/not a valid tar archive/);
  });

  it('unpacks a gzip stream and reports a truncated one', async () => {
    const gz = gzip(await makeTar([{ name: 'etc/hostname', body: 'x\n' }]));
    await unpackTar(Readable.from([gz]).pipe(createGunzip()), root);
    expect(await fsp.readFile(path.join(root, 'etc/hostname'), 'utf8')).toBe('x\n');
  });
});

describe('unpackTar: metadata', () => {
  it('applies modes exactly, without the umask, and mtimes', async () => {
    const old = process.umask(0o077);
    try {
      const mtime = new Date('2020-01-02T03:04:05Z');
      await unpack([
        { name: 'd', type: 'directory', mode: 0o1777, mtime },
        { name: 'd/f', body: 'x', mode: 0o644, mtime },
        { name: 'implicit/f', body: 'x', mode: 0o600 },
      ]);
      expect(statSync(path.join(root, 'd')).mode & 0o7777).toBe(0o1777);
      expect(statSync(path.join(root, 'd/f')).mode & 0o7777).toBe(0o644);
      expect(statSync(path.join(root, 'implicit')).mode & 0o7777).toBe(0o755);
      expect(statSync(root).mode & 0o7777).toBe(0o755);
      // The directory's mtime survives the creation of its children.
      expect(statSync(path.join(root, 'd')).mtime.getTime()).toBe(mtime.getTime());
      expect(statSync(path.join(root, 'd/f')).mtime.getTime()).toBe(mtime.getTime());
    } finally {
      process.umask(old);
    }
  });

  it('applies the ./ entry to the root', async () => {
    await unpack([
      { name: './', type: 'directory', mode: 0o700 },
      { name: './etc/', type: 'directory' },
    ]);
    expect(statSync(root).mode & 0o7777).toBe(0o700);
  });

  it.skipIf(!isRoot)('sets numeric owners and keeps setuid after chown (needs root for lchown)', async () => {
    await unpack([
      { name: 'bin/su', body: 'x', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'home/u', type: 'directory', mode: 0o2750, uid: 1000, gid: 1000 },
      { name: 'home/u/f', body: 'x', mode: 0o6755, uid: 1000, gid: 50 },
      { name: 'home/u/l', type: 'symlink', linkname: '/nowhere', uid: 1234, gid: 4321 },
    ]);
    const f = statSync(path.join(root, 'home/u/f'));
    expect([f.uid, f.gid, f.mode & 0o7777]).toEqual([1000, 50, 0o6755]);
    const d = statSync(path.join(root, 'home/u'));
    expect([d.uid, d.gid, d.mode & 0o7777]).toEqual([1000, 1000, 0o2750]);
    expect(statSync(path.join(root, 'bin/su')).mode & 0o7777).toBe(0o4755);
    const l = lstatSync(path.join(root, 'home/u/l'));
    expect([l.uid, l.gid]).toEqual([1234, 4321]);
  });
});

describe('unpackTar: OCI whiteouts', () => {
  it('keeps .wh. files as plain files by default', async () => {
    await unpack([{ name: 'etc/.wh.motd', body: '' }]);
    expect(lstatSync(path.join(root, 'etc/.wh.motd')).isFile()).toBe(true);
  });

  it.skipIf(!isRoot)('turns them into overlayfs whiteouts in overlay mode (needs root for mknod and trusted.* xattrs)', async () => {
    const stats = await unpack(
      [
        { name: 'etc/motd', body: 'x' },
        { name: 'etc/.wh.motd', body: '' },
        { name: 'var/cache/.wh..wh..opq', body: '' },
        { name: '.wh..wh.plnk', type: 'directory' },
        { name: '.wh...', body: '' },
      ],
      { whiteouts: 'overlay' },
    );
    const wh = lstatSync(path.join(root, 'etc/motd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(stats).toMatchObject({ whiteouts: 1, opaqueDirs: 1, skippedOther: 2 });
    const xattr = execFileSync('python3', [
      '-c',
      'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())',
      path.join(root, 'var/cache'),
    ]);
    expect(xattr.toString().trim()).toBe('y');
    expect(await listTree(root)).toEqual(['etc', 'etc/motd', 'var', 'var/cache']);
  });
});
