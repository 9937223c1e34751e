/**
 * podman 4.3 (through conmon) with `--runtime bin/minipod-oci`: `--uidmap`/`--gidmap` (a new
 * user namespace with podman's maps) and `--preserve-fds` (socket activation's descriptors).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, isRoot } from '../support/minipod.js';
import { MINIPOD_OCI } from '../support/oci.js';
import { hasPodman, makePodmanEnv, PODMAN_IMAGE, type PodmanEnv } from '../support/podman.js';

const suite = isRoot && hasPodman ? describe : describe.skip;
const RUN = ['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=1024:4096'];

suite('podman with minipod-oci: user namespaces and --preserve-fds', () => {
  let p: PodmanEnv;
  beforeAll(() => {
    p = makePodmanEnv('oci-userns', MINIPOD_OCI);
    // The container's root (host uid 100000) must reach podman's storage below this dir.
    fs.chmodSync(p.dir, 0o755);
    const r = spawnSync('sh', ['-c', `podman import - ${PODMAN_IMAGE} < '${BUSYBOX_ROOTFS}'`], { env: p.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman import: ${r.stderr}`);
  });
  afterAll(() => p?.cleanup());

  it('--uidmap/--gidmap: the container runs in a user namespace with those maps', () => {
    const r = p.podman([
      ...RUN,
      '--uidmap',
      '0:100000:65536',
      '--gidmap',
      '0:100000:65536',
      PODMAN_IMAGE,
      'sh',
      '-c',
      'cat /proc/self/uid_map /proc/self/gid_map; id -u; echo pid $$',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual(['0 100000 65536', '0 100000 65536', '0', 'pid 1']);
  });

  it('--preserve-fds 1: the container writes to the fd podman was given', () => {
    const file = path.join(p.dir, 'fd3');
    const fd = fs.openSync(file, 'w');
    try {
      const r = spawnSync('podman', [...RUN, '--preserve-fds', '1', PODMAN_IMAGE, 'sh', '-c', 'echo socket-activated >&3'], {
        env: p.env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe', fd],
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('socket-activated\n');
  });
});
