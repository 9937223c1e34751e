/** The host side of a userns container's root, and the helper's part, on the recording fake. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MNT, MS } from '../../../native-bindings/constants.js';
import { parsePodManifest } from '../../../src/manifest/index.js';
import { planContainer } from '../../../src/plan/container.js';
import { setupRootfs } from '../../../src/rootfs/mount-rootfs.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';
import { mountIdmappedRootfs, planIdmappedRootfs } from '../../../src/userns/rootfs.js';
import { prepareInitRoot, unshareArgs } from '../../../src/userns/pod-init.js';

const range = { base: 1073741824, size: 65536 };
const rootfs = { lowerDirs: ['/img/l2', '/img/l1'], upperDir: '/c/upper', workDir: '/c/work', mountPoint: '/c/rootfs', readOnly: false };

describe('the idmapped root plan', () => {
  it('idmaps every lower layer at a staging dir, mounts the overlay over them, then drops them', () => {
    expect(planIdmappedRootfs(rootfs, range)).toEqual({
      chown: [
        { path: '/c/upper', uid: range.base, gid: range.base },
        { path: '/c/work', uid: range.base, gid: range.base },
      ],
      idmapped: [
        { source: '/img/l2', target: '/c/idmapped/0' },
        { source: '/img/l1', target: '/c/idmapped/1' },
      ],
      overlay: { target: '/c/rootfs', options: 'lowerdir=/c/idmapped/0:/c/idmapped/1,upperdir=/c/upper,workdir=/c/work' },
      detach: ['/c/idmapped/0', '/c/idmapped/1'],
    });
  });

  describe('executed', () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-idmap-'))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const local = () => {
      const r = { ...rootfs, upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work'), mountPoint: path.join(dir, 'rootfs') };
      for (const d of [r.upperDir, r.workDir, r.mountPoint]) fs.mkdirSync(d);
      // chown needs root: plan without it here.
      return { ...planIdmappedRootfs(r, range), chown: [] };
    };

    it("makes the calls in order with the pod's user namespace fd", () => {
      const sys = new RecordingSyscall();
      const plan = local();
      mountIdmappedRootfs(sys, plan, 42);
      expect(sys.calls.map((c) => c.name)).toEqual(['mountIdmapped', 'mountIdmapped', 'mount', 'umount2', 'umount2']);
      expect(sys.callsOf('mountIdmapped')[0]).toEqual(['/img/l2', path.join(dir, 'idmapped/0'), 42]);
      expect(sys.callsOf('mount')[0]).toEqual(['overlay', path.join(dir, 'rootfs'), 'overlay', MS.NODEV, plan.overlay.options]);
      expect(sys.callsOf('umount2')).toEqual([
        [path.join(dir, 'idmapped/0'), MNT.DETACH],
        [path.join(dir, 'idmapped/1'), MNT.DETACH],
      ]);
    });

    it('still detaches what it idmapped when the overlay fails', () => {
      const sys = new RecordingSyscall();
      sys.failNext('mount', 1);
      expect(() => mountIdmappedRootfs(sys, local(), 42)).toThrow(/EPERM/);
      expect(sys.callsOf('umount2')).toHaveLength(2);
    });

    it('detaches only what got mounted when an idmap fails (a kernel without idmapped mounts)', () => {
      const sys = new RecordingSyscall();
      sys.failNext('mountIdmapped', 22, 1, (a) => a[0] === '/img/l1');
      expect(() => mountIdmappedRootfs(sys, local(), 42)).toThrow(/EINVAL/);
      expect(sys.callsOf('umount2')).toEqual([[path.join(dir, 'idmapped/0'), MNT.DETACH]]);
    });
  });
});

describe('a container helper in a user namespace', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-usernsroot-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("binds the supervisor's overlay onto itself instead of mounting one, and binds devices", () => {
    const pod = parsePodManifest(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { hostUsers: false, containers: [{ name: 'c', image: 'i' }] },
      }),
      { manifestDir: '/' },
    );
    const plan = planContainer({
      pod,
      container: pod.containers[0]!,
      image: {},
      dirs: {
        lowerDirs: ['/l'],
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
    const sys = new RecordingSyscall();
    setupRootfs(sys, { ...plan, inUserNamespace: true });
    const mounts = sys.callsOf('mount');
    expect(mounts[1]).toEqual([root, root, null, MS.BIND | MS.REC, null]);
    expect(mounts.some((m) => m[2] === 'overlay')).toBe(false);
    expect(sys.callsOf('mknod')).toEqual([]);
    expect(mounts).toContainEqual(['/dev/null', path.join(root, 'dev/null'), null, MS.BIND, null]);
  });
});

describe('the pod init in a user namespace', () => {
  it('is created by one unshare of every namespace, PID 1 chrooted into its own root', () => {
    expect(unshareArgs('/r/init-root')).toEqual([
      '--user',
      '--pid',
      '--net',
      '--ipc',
      '--uts',
      '--mount',
      '--propagation=private',
      '--fork',
      '--kill-child=SIGKILL',
      '--root=/r/init-root',
      '--wd=/',
      '--',
      '/init',
      '-P',
    ]);
  });

  it('gets a read-only tmpfs holding only the init binary', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-initroot-'));
    try {
      const sys = new RecordingSyscall();
      prepareInitRoot(sys, path.join(dir, 'init-root'), '/usr/bin/catatonit');
      expect(sys.callsOf('mount')).toEqual([
        ['tmpfs', path.join(dir, 'init-root'), 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=0755'],
        ['/usr/bin/catatonit', path.join(dir, 'init-root/init'), null, MS.BIND, null],
        [null, path.join(dir, 'init-root/init'), null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV, null],
        [null, path.join(dir, 'init-root'), null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV, null],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
