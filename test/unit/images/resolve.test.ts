import { promises as fsp, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { minipodPaths, storeDirs, type MinipodPaths } from '../../../src/paths.js';
import { resolveImage, type ResolveImageOptions } from '../../../src/images/index.js';
import { publishOnce } from '../../../src/images/store/publish.js';
import { gzip, listTree, makeTar, tempDir, type TarEntry } from './helpers.js';

let base: string;
let cleanup: () => void;
let manifestDir: string;
let paths: MinipodPaths;
const fieldPath = 'spec.containers[0].image';

beforeEach(() => {
  ({ dir: base, cleanup } = tempDir());
  manifestDir = path.join(base, 'manifests');
  mkdirSync(manifestDir);
  // Never the real /var/lib/minipod.
  paths = minipodPaths({ MINIPOD_LIB_DIR: path.join(base, 'lib'), MINIPOD_RUN_DIR: path.join(base, 'run') });
});
afterEach(() => cleanup());

const resolve = (image: string, extra: Partial<ResolveImageOptions> = {}) =>
  resolveImage(image, { manifestDir, paths, fieldPath, ...extra });
const rootfs: TarEntry[] = [
  { name: './', type: 'directory' },
  { name: 'bin/busybox', body: 'ELF', mode: 0o755 },
  { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
  { name: 'etc/passwd', body: 'root:x:0:0:root:/root:/bin/sh\n' },
];

async function storeEntries(): Promise<string[]> {
  return fsp.readdir(storeDirs(paths).rootfs).catch(() => []);
}

describe('resolveImage: errors', () => {
  it('names the field path for a missing image', async () => {
    await expect(resolve('/x/y.tar')).rejects.toThrow(`${fieldPath}: /x/y.tar: no such file or directory`);
    const err = await resolve('rootfs/missing.tar').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('image.not-found');
    expect((err as Error).message).toBe(`${fieldPath}: rootfs/missing.tar (${manifestDir}/rootfs/missing.tar): no such file or directory`);
  });

  it('treats a reference that is no path as a registry image (pullPolicy Never: no network)', async () => {
    const err = await resolve('docker.io/library/nginx:1.25', { pullPolicy: 'Never' }).catch((e: unknown) => e);
    expect((err as UserError).code).toBe('image.not-found');
    expect((err as Error).message).toMatch(
      /^spec\.containers\[0\]\.image: docker\.io\/library\/nginx:1\.25 is not in the local store and imagePullPolicy is Never/,
    );
    await expect(resolve('nginx', { pullPolicy: 'Never' })).rejects.toThrow(/docker\.io\/library\/nginx:latest is not in the local store/);
  });

  it.each([
    ['oci:/srv/no-layout:latest', /not an OCI image layout/],
    ['oci-archive:/no/x.tar', /no such file/],
    ['docker-archive:/no/x.tar', /no such file/],
  ])('refuses %s with the field path', async (image, why) => {
    const err = await resolve(image).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^spec\.containers\[0\]\.image: /);
    expect((err as Error).message).toMatch(why);
  });

  it('refuses an empty directory, a non-tar file and a zstd file', async () => {
    mkdirSync(path.join(manifestDir, 'empty'));
    await expect(resolve('empty')).rejects.toThrow(/is empty/);
    writeFileSync(path.join(manifestDir, 'notes.tar'), 'hello, not a tarball'.repeat(40));
    await expect(resolve('notes.tar')).rejects.toThrow(/notes.tar: not a tar archive/);
    writeFileSync(path.join(manifestDir, 'x.tar.zst'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    await expect(resolve('x.tar.zst')).rejects.toThrow(/zstd-compressed tarballs are not supported yet/);
  });

  it('recognises a docker save archive by its content', async () => {
    writeFileSync(
      path.join(manifestDir, 'saved.tar'),
      await makeTar([
        { name: 'abc123/layer.tar', body: 'x' },
        { name: 'manifest.json', body: '[]' },
        { name: 'repositories', body: '{}' },
      ]),
    );
    // Imported as a docker archive (not unpacked as a rootfs), and refused as an empty one.
    await expect(resolve('saved.tar')).rejects.toThrow(/saved\.tar: manifest\.json is not a non-empty list/);
    expect(await storeEntries()).toEqual([]);
  });
});

describe('resolveImage: rootfs directory', () => {
  it('uses the directory in place, by its real path', async () => {
    const dir = path.join(manifestDir, 'rootfs');
    mkdirSync(path.join(dir, 'bin'), { recursive: true });
    symlinkSync(dir, path.join(manifestDir, 'alias'));
    const img = await resolve('alias');
    expect(img).toEqual({ id: `dir:${dir}`, layers: [dir], config: {} });
    expect(await storeEntries()).toEqual([]);
  });
});

describe('resolveImage: rootfs tarball', () => {
  it('unpacks into the content-addressed store once', async () => {
    writeFileSync(path.join(manifestDir, 'busybox.tar'), await makeTar(rootfs));
    const a = await resolve('busybox.tar');
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const hex = a.id.slice('sha256:'.length);
    expect(a.layers).toEqual([path.join(base, 'lib/images/rootfs/sha256', hex, 'rootfs')]);
    expect(a.config).toEqual({});
    expect(await listTree(a.layers[0]!)).toEqual(['bin', 'bin/busybox', 'bin/sh', 'etc', 'etc/passwd']);
    const meta = JSON.parse(await fsp.readFile(path.join(a.layers[0]!, '../entry.json'), 'utf8'));
    expect(meta).toMatchObject({ kind: 'rootfs-tar', digest: a.id, stats: { files: 2, symlinks: 1 } });

    // Second resolve: same entry, not unpacked again (a marker dropped in the entry survives).
    writeFileSync(path.join(a.layers[0]!, 'marker'), '');
    const b = await resolve(path.join(manifestDir, 'busybox.tar'));
    expect(b).toEqual(a);
    expect(statSync(path.join(b.layers[0]!, 'marker')).isFile()).toBe(true);

    // The same content under another name, gzip-compressed but named .tar: a different key
    // (the file's digest), detected as gzip by its magic bytes.
    writeFileSync(path.join(manifestDir, 'misnamed.tar'), gzip(await makeTar(rootfs)));
    const c = await resolve('misnamed.tar');
    expect(c.id).not.toBe(a.id);
    expect(await listTree(c.layers[0]!)).toEqual(['bin', 'bin/busybox', 'bin/sh', 'etc', 'etc/passwd']);
    expect((await storeEntries()).sort()).toEqual([a.id.slice(7), c.id.slice(7)].sort());
  });

  it('shares one unpack between concurrent resolves', async () => {
    writeFileSync(path.join(manifestDir, 'r.tgz'), gzip(await makeTar(rootfs)));
    const results = await Promise.all(Array.from({ length: 8 }, () => resolve('r.tgz')));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(await storeEntries()).toHaveLength(1);
  });

  it('survives a rename race with another unpacker of the same content', async () => {
    // Two store paths for one directory defeat the in-process dedupe, as two processes would.
    const store = path.join(base, 'store');
    mkdirSync(store);
    symlinkSync(store, path.join(base, 'store-alias'));
    let builds = 0;
    const build = (tag: string) => async (dir: string) => {
      builds++;
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(path.join(dir, 'f'), tag);
      return { tag };
    };
    const [x, y] = await Promise.all([publishOnce(store, 'k', build('x')), publishOnce(path.join(base, 'store-alias'), 'k', build('y'))]);
    expect(builds).toBe(2);
    expect(x).toEqual(y); // the loser returns the winner's entry
    expect(await fsp.readdir(store)).toEqual(['k']); // no temp dir left
    expect(await fsp.readFile(path.join(store, 'k/rootfs/f'), 'utf8')).toBe((x as { tag: string }).tag);
  });

  it('leaves nothing half-made after a truncated tarball', async () => {
    const full = await makeTar([...rootfs, { name: 'big', body: Buffer.alloc(100_000, 1) }]);
    writeFileSync(path.join(manifestDir, 'cut.tar'), full.subarray(0, 50_000));
    await expect(resolve('cut.tar')).rejects.toThrow(
      /^spec\.containers\[0\]\.image: cut\.tar: not a valid tar archive: Unexpected end of data$/,
    );
    const gz = gzip(full);
    writeFileSync(path.join(manifestDir, 'cut.tgz'), gz.subarray(0, gz.length - 100));
    await expect(resolve('cut.tgz')).rejects.toThrow(/cut\.tgz: not a valid tar archive: unexpected end of file/);
    expect(await storeEntries()).toEqual([]);
  });

  it('refuses a hostile tarball with the field path and leaves nothing in the store', async () => {
    writeFileSync(
      path.join(manifestDir, 'evil.tar'),
      await makeTar([
        { name: 'link', type: 'symlink', linkname: base },
        { name: 'link/pwned', body: 'x' },
      ]),
    );
    await expect(resolve('evil.tar')).rejects.toThrow(
      /^spec\.containers\[0\]\.image: evil\.tar: tar entry link\/pwned: parent link is a symlink; refusing to write through it$/,
    );
    expect(await storeEntries()).toEqual([]);
    expect(await fsp.readdir(base)).not.toContain('pwned');
  });
});
