/**
 * `npm run test:vm` on a fresh clone (issue #18): run.sh must build what the guest needs (dist/
 * and the root filesystems in build/rootfs/) by itself, not rely on scripts/test.sh having done
 * it. The clone here is the checkout's tracked files only (no dist/, no build/), with the
 * checkout's node_modules and downloaded .debs so nothing is fetched again; VM_PREPARE_ONLY=1
 * stops run.sh before it boots QEMU.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, isRoot } from '../support/minipod.js';

const hasApt = fs.existsSync('/usr/bin/apt-get');

describe.skipIf(!isRoot || !hasApt)('test/vm/run.sh on a fresh clone (root)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-vm-prepare-'));
  const clone = path.join(dir, 'minipod');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const prepare = () =>
    spawnSync('bash', ['test/vm/run.sh'], {
      cwd: clone,
      env: { ...process.env, VM_SKIP_DEPS: '1', VM_PREPARE_ONLY: '1' },
      encoding: 'utf8',
      timeout: 400_000,
    });
  const tarballs = ['busybox', 'nginx', 'app'].map((n) => path.join(clone, 'build/rootfs', `${n}.tar`));

  it('builds dist/ and the root filesystems, then stops before the VM', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const f of files) {
      if (!fs.existsSync(path.join(REPO, f))) continue;
      fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      fs.cpSync(path.join(REPO, f), path.join(clone, f), { verbatimSymlinks: true });
    }
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
    expect(fs.existsSync(path.join(clone, 'build'))).toBe(false);
    fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules')), path.join(clone, 'node_modules'));
    const debs = path.join(REPO, 'build/rootfs/.debs');
    if (fs.existsSync(debs)) fs.cpSync(debs, path.join(clone, 'build/rootfs/.debs'), { recursive: true });

    const r = prepare();
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toContain('host prepared (VM_PREPARE_ONLY=1)');
    expect(fs.existsSync(path.join(clone, 'dist/bundle/cli.mjs'))).toBe(true);
    for (const t of tarballs) expect(fs.statSync(t).size, t).toBeGreaterThan(1_000_000);
  }, 420_000);
});
