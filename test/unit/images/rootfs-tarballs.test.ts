/**
 * The tarballs rootfs-tools/build-all.sh makes, unpacked by our unpacker, give the same tree as
 * GNU tar (types, modes, owners, sizes, mtimes, link targets). Skipped until they are built.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackTar } from '../../../src/images/index.js';
import { isRoot, tempDir } from './helpers.js';

const built = path.resolve(__dirname, '../../../build/rootfs');
let base: string;
let cleanup: () => void;
beforeEach(() => ({ dir: base, cleanup } = tempDir()));
afterEach(() => cleanup());

function describeTree(dir: string): string {
  return execFileSync('find', ['.', '-printf', '%y %m %U:%G %s %T@ %p -> %l\n'], { cwd: dir, maxBuffer: 64 << 20 })
    .toString()
    .split('\n')
    .map((l) => (l.startsWith('d ') ? l.replace(/^(d \d+ \S+) \d+/, '$1 -') : l)) // dir sizes differ by fs history
    .sort()
    .join('\n');
}

describe.each(['busybox', 'nginx', 'app'])('rootfs-tools %s.tar', (name) => {
  const tar = path.join(built, `${name}.tar`);
  it.skipIf(!isRoot || !existsSync(tar))(
    `unpacks like GNU tar (needs root and rootfs-tools/build-all.sh)`,
    async () => {
      const ours = path.join(base, 'ours');
      const gnu = path.join(base, 'gnu');
      mkdirSync(ours);
      mkdirSync(gnu);
      const stats = await unpackTar(createReadStream(tar), ours);
      execFileSync('tar', ['-C', gnu, '--numeric-owner', '-xpf', tar]);
      expect(describeTree(ours)).toBe(describeTree(gnu));
      expect(stats.skippedDevices).toBe(0);
    },
    60_000,
  );
});
