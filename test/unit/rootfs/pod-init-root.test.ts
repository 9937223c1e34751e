import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MS } from '../../../native-bindings/constants.js';
import { setupPodInitRoot } from '../../../src/rootfs/pod-init-root.js';
import { RecordingSyscall } from '../../../src/syscall/recording.js';

let dir: string | undefined;
afterEach(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

describe('setupPodInitRoot', () => {
  it('mounts an empty read-only tmpfs holding only the init binary, bound read-only', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minipod-initroot-'));
    const sys = new RecordingSyscall();
    setupPodInitRoot(sys, { rootDir: dir, initBinary: '/usr/bin/catatonit' });
    const init = path.join(dir, 'init');
    expect(sys.callsOf('mount')).toEqual([
      [null, '/', null, MS.REC | MS.PRIVATE, null],
      ['tmpfs', dir, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=0755'],
      ['/usr/bin/catatonit', init, null, MS.BIND, null],
      [null, init, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV, null],
      [null, dir, null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV, null],
    ]);
    expect(fs.existsSync(init)).toBe(true);
  });
});
