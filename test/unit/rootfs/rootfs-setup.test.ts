/** The mount sequence of a container, asserted on a recording syscall layer (no root). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MNT, MS } from '../../../native-bindings/constants.js';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planContainer } from '../../../src/plan/container.js';
import { mountFlagsAt, setupRootfs } from '../../../src/rootfs/mount-rootfs.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-rootfs-'));
  // The image has /etc as a symlink out of the tree: destinations must stay inside anyway.
  fs.symlinkSync('/../../../tmp/elsewhere', path.join(root, 'etc'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function plan(readOnlyRoot = false) {
  const pod = parsePodManifest(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'i', securityContext: { readOnlyRootFilesystem: readOnlyRoot } }] },
    }),
    { manifestDir: '/' },
  );
  return planContainer({
    pod,
    container: pod.containers[0]!,
    image: {},
    dirs: {
      lowerDirs: ['/l1', '/l2'],
      upperDir: '/u',
      workDir: '/w',
      mountPoint: root,
      etcHosts: '/h',
      etcHostname: '/hn',
      resolvConf: '/rc',
      shm: '/shm',
      volumes: {},
      subPaths: {},
    },
    cgroupProcs: [],
    isFile: () => false,
  });
}

describe('setupRootfs', () => {
  it('makes mounts private, mounts the overlay, then everything inside the root, then pivots', () => {
    const sys = new RecordingSyscall();
    setupRootfs(sys, plan());
    const mounts = sys.callsOf('mount');
    expect(mounts[0]).toEqual([null, '/', null, MS.REC | MS.PRIVATE, null]);
    expect(mounts[1]).toEqual(['overlay', root, 'overlay', MS.NODEV, 'lowerdir=/l1:/l2,upperdir=/u,workdir=/w']);
    // Every target is inside the root, including /etc/hosts behind the hostile /etc symlink.
    for (const m of mounts.slice(2)) expect(String(m[1]).startsWith(root)).toBe(true);
    const hosts = mounts.find((m) => m[0] === '/h')!;
    expect(hosts[1]).toBe(path.join(root, 'tmp/elsewhere/hosts'));
    // Devices are the host's nodes bound onto files of the container's nodev /dev, never mknod.
    expect(mounts).toContainEqual(['/dev/null', path.join(root, 'dev/null'), null, MS.BIND, null]);
    expect(sys.callsOf('mknod')).toEqual([]);
    const tail = sys.calls.slice(-4).map((c) => c.name);
    expect(tail).toEqual(['chdir', 'pivotRoot', 'umount2', 'chdir']);
    expect(sys.callsOf('umount2')[0]).toEqual(['.', MNT.DETACH]);
  });

  it('remounts the root read-only after the pivot when asked', () => {
    const sys = new RecordingSyscall();
    setupRootfs(sys, plan(true));
    expect(sys.calls.at(-1)).toEqual({ name: 'mount', args: [null, '/', null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV, null] });
  });

  it('names the failing step', () => {
    const sys = new RecordingSyscall();
    sys.failNext('mount', 19, 1, (args) => args[2] === 'mqueue');
    expect(() => setupRootfs(sys, plan())).toThrow(/mount \/dev\/mqueue: mount .*ENODEV/);
  });
});

describe('mountFlagsAt', () => {
  const info = [
    '22 1 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw',
    '40 22 0:40 / /r/mem rw,nosuid,nodev,relatime - tmpfs tmpfs rw',
    '41 40 0:41 / /r/mem rw,noatime - tmpfs tmpfs rw',
    '42 1 0:42 / /r/with\\040space ro,nosuid,nodev,noexec - ext4 /dev/vda ro',
  ].join('\n');
  it("keeps the last mount's per-mount flags, atime included, so a remount clears none of them", () => {
    expect(mountFlagsAt('/r/mem', info)).toBe(MS.NOATIME);
    expect(mountFlagsAt('/dev', info)).toBe(MS.NOSUID | MS.RELATIME);
    expect(mountFlagsAt('/r/with space', info)).toBe(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.STRICTATIME);
    expect(mountFlagsAt('/nowhere', info)).toBe(0);
  });
});
